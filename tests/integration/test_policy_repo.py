"""PolicyRepository against DynamoDB Local: the head is founded once, drafts take numbers from its counter, and a
schedule change is conditioned on the revision it read (a failed condition writes nothing)."""

from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo import LostRace
from chalicelib.adapters.policy_repo import PolicyRepository
from chalicelib.domain.errors import Conflict

# The repository written alone (schedules made up by the tests): not for the final reconcile.
pytestmark = pytest.mark.usefixtures("throwaway")
POLICY = {"daily_caps": {"fan": 3}}  # the repository stores a policy as given; the service validates it


def version(n: int, status: str = "draft") -> dict:
    return {"version": n, "status": status, "effective_from": f"2030-01-0{n}T00:00:00.000Z", "note": f"v{n}",
            "created_by": "m", "created_at": "2026-12-06T00:00:00.000Z", "policy": POLICY}  # fmt: skip


def head(next_version: int = 3) -> dict:
    return {"revision": 0, "next_version": next_version, "entries": [{"version": 1, "effective_from": "2030-01-01T00:00:00.000Z",
                                                                      "policy": POLICY}]}  # fmt: skip


@pytest.fixture
def repo(services) -> PolicyRepository:
    return PolicyRepository(services.table)


def founded(repo: PolicyRepository) -> None:
    tx = repo.begin()
    repo.found(tx, version(1, "scheduled"), head())
    repo.add_draft(tx, version(2), None)
    tx.commit()


def test_the_first_change_founds_the_head_and_version_1_once(repo):
    assert repo.head() is None
    founded(repo)
    assert repo.head()["next_version"] == 3 and repo.get(1)["status"] == "scheduled" and repo.get(2)["note"] == "v2"
    tx = repo.begin()
    repo.found(tx, version(1, "scheduled"), head(99))
    with pytest.raises(LostRace):
        tx.commit()
    assert repo.head()["next_version"] == 3, "a second founding changes nothing"


def test_a_draft_takes_the_counters_number_once_and_a_stale_counter_writes_nothing(repo):
    founded(repo)
    tx = repo.begin()
    repo.add_draft(tx, version(3), 3)
    tx.commit()
    stale = repo.begin()
    repo.add_draft(stale, version(4), 3)  # read before the draft above took number 3
    with pytest.raises(LostRace):
        stale.commit()
    assert repo.get(4) is None and repo.head()["next_version"] == 4
    assert [v["version"] for v in repo.page(10, None)[0]] == [3, 2, 1]


def test_scheduling_on_a_stale_revision_or_a_version_no_longer_a_draft_writes_nothing(repo):
    founded(repo)
    entries = [*head()["entries"], {"version": 2, "effective_from": "2030", "policy": POLICY}]
    tx = repo.begin()
    repo.schedule(tx, 2, entries, 0, on_conflict=Conflict("changed"), on_not_draft=Conflict("not a draft"))
    tx.commit()
    assert repo.head()["revision"] == 1 and repo.get(2)["status"] == "scheduled"
    tx = repo.begin()
    tx2 = [*entries, {"version": 9, "effective_from": "2031", "policy": POLICY}]
    repo.schedule(tx, 2, tx2, 1, on_conflict=Conflict("changed"), on_not_draft=Conflict("not a draft"))
    with pytest.raises(Conflict, match="not a draft"):
        tx.commit()
    assert len(repo.head()["entries"]) == 2, "the schedule is as it was"
    tx = repo.begin()
    repo.add_draft(tx, version(3), 3)
    tx.commit()
    stale = repo.begin()
    repo.schedule(stale, 3, tx2, 0, on_conflict=Conflict("changed"), on_not_draft=Conflict("not a draft"))
    with pytest.raises(Conflict, match="changed"):
        stale.commit()
    assert repo.get(3)["status"] == "draft" and repo.head()["revision"] == 1


def test_reconcile_finds_a_schedule_that_is_not_the_versions_as_written(repo):
    from tools.reconcile import policy_differences

    founded(repo)
    assert policy_differences(repo._table) == []
    entries = [*head()["entries"], {"version": 2, "effective_from": "2030", "policy": {"daily_caps": {"fan": 99}}}]
    tx = repo.begin()
    repo.schedule(tx, 2, entries, 0, on_conflict=Conflict("changed"), on_not_draft=Conflict("not a draft"))
    tx.commit()
    found = [d.describe() for d in policy_differences(repo._table)]
    assert found == ["policy version 2: the schedule holds another effective_from or policy than it"], found
