"""PolicyRepository against DynamoDB Local: the head is founded once, drafts take numbers from its counter, and a
schedule change is conditioned on the revision it read (a failed condition writes nothing)."""

from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo import LostRace
from chalicelib.adapters.policy_repo import PolicyRepository
from chalicelib.domain.errors import Conflict
from chalicelib.domain.policy import Head, Scheduled, VersionRecord, first_policy

# The repository written alone (schedules made up by the tests): not for the final reconcile.
pytestmark = pytest.mark.usefixtures("throwaway")
POLICY = first_policy(
    {"fan": 3, "deposit": 5, "owner": 20}, {}, {"test_drive": 200, "purchase": 12_000}, 2000, "0.05", "0.75", 20_000
)
RICHER = POLICY.model_copy(update={"design_reward_points": 9_999})


def version(n: int, status: str = "draft") -> VersionRecord:
    return VersionRecord(n, status, f"2030-01-0{n}T00:00:00.000Z", f"v{n}", "m", "2026-12-06T00:00:00.000Z", POLICY)  # type: ignore[arg-type]


def head(next_version: int = 3) -> Head:
    return Head(0, next_version, ((version(1).entry, POLICY),))


@pytest.fixture
def repo(services) -> PolicyRepository:
    return PolicyRepository(services.table)


def founded(repo: PolicyRepository) -> None:
    tx = repo.begin()
    repo.found(tx, version(1, "scheduled"), head())
    repo.add_draft(tx, version(2), None)
    tx.commit()


def schedule(repo: PolicyRepository, number: int, entries, revision: int) -> None:
    tx = repo.begin()
    repo.schedule(tx, number, entries, revision, on_conflict=Conflict("changed"), on_not_draft=Conflict("not a draft"))
    tx.commit()


def test_the_first_change_founds_the_head_and_version_1_once(repo):
    assert repo.head() is None
    founded(repo)
    assert repo.head() == head() and repo.get(1) == version(1, "scheduled") and repo.get(2) == version(2)
    tx = repo.begin()
    repo.found(tx, version(1, "scheduled"), head(99))
    with pytest.raises(LostRace):
        tx.commit()
    assert repo.head().next_version == 3, "a second founding changes nothing"


def test_a_draft_takes_the_counters_number_once_and_a_stale_counter_writes_nothing(repo):
    founded(repo)
    tx = repo.begin()
    repo.add_draft(tx, version(3), 3)
    tx.commit()
    stale = repo.begin()
    repo.add_draft(stale, version(4), 3)  # read before the draft above took number 3
    with pytest.raises(LostRace):
        stale.commit()
    assert repo.get(4) is None and repo.head().next_version == 4
    assert [v.version for v in repo.page(10, None)[0]] == [3, 2, 1]


def test_scheduling_on_a_stale_revision_or_a_version_no_longer_a_draft_writes_nothing(repo):
    founded(repo)
    entries = (*head().entries, (version(2).entry, POLICY))
    schedule(repo, 2, entries, 0)
    assert repo.head().revision == 1 and repo.get(2).status == "scheduled"
    more = (*entries, (Scheduled(9, "2031-01-01T00:00:00.000Z"), POLICY))
    with pytest.raises(Conflict, match="not a draft"):
        schedule(repo, 2, more, 1)
    assert len(repo.head().entries) == 2, "the schedule is as it was"
    tx = repo.begin()
    repo.add_draft(tx, version(3), 3)
    tx.commit()
    with pytest.raises(Conflict, match="changed"):
        schedule(repo, 3, more, 0)
    assert repo.get(3).status == "draft" and repo.head().revision == 1


def test_reconcile_finds_a_schedule_that_is_not_the_versions_as_written(repo):
    from tools.reconcile import policy_differences

    founded(repo)
    assert policy_differences(repo._table) == []
    schedule(repo, 2, (*head().entries, (version(2).entry, RICHER)), 0)
    found = [d.describe() for d in policy_differences(repo._table)]
    assert found == ["policy version 2: the schedule holds another effective_from or policy than it"], found
