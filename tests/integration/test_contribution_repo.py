"""ContributionRepository against DynamoDB Local: a source earns once, the balance is the sum of the ledger, the
ledger reads newest first, and a vote's weight can be pinned."""

from __future__ import annotations

import pytest

from chalicelib.adapters.contribution_repo import ContributionRepository
from chalicelib.adapters.dynamo import LostRace
from chalicelib.domain.errors import AlreadyExists
from tests.helpers import uid


def entry(
    user_id: str, kind: str = "forum_answer", ref: str = "r-1", amount: int = 10, at: str = "2024-05-01T08:00:00.000Z"
) -> dict:
    return {"entry_id": uid("c"), "user_id": user_id, "kind": kind, "ref": ref, "amount": amount, "created_at": at}


def add(repo: ContributionRepository, e: dict, on_repeat=LostRace) -> None:
    tx = repo.begin()
    repo.add(tx, e, on_repeat=on_repeat)
    tx.commit()


@pytest.fixture
def repo(services) -> ContributionRepository:
    return ContributionRepository(services.table)


def test_a_source_earns_once_and_a_repeat_writes_nothing(repo):
    user = uid("u")
    first = entry(user, amount=30)
    add(repo, first)
    with pytest.raises(AlreadyExists):
        add(repo, entry(user, amount=500), on_repeat=AlreadyExists("earned"))
    assert repo.balance(user) == 30
    assert repo.source(user, "forum_answer", "r-1") == first
    assert repo.ledger_sum(user) == (30, 1, 1)
    add(repo, entry(user, ref="r-2", amount=5))  # another ref is another source
    add(repo, entry(user, kind="bug_report", ref="r-1", amount=7))  # and so is another kind
    assert repo.balance(user) == 42 and repo.ledger_sum(user) == (42, 3, 3)
    assert repo.balance(uid("u")) == 0 and repo.source(uid("u"), "forum_answer", "r-1") is None


def test_the_ledger_reads_newest_first_in_pages(repo):
    user = uid("u")
    for day in (3, 1, 2):
        add(repo, entry(user, ref=f"day-{day}", at=f"2024-05-0{day}T08:00:00.000Z"))
    first, cursor = repo.ledger_page(user, 2, None)
    rest, end = repo.ledger_page(user, 2, cursor)
    assert [e["ref"] for e in first + rest] == ["day-3", "day-2", "day-1"] and end is None
    assert set(first[0]) == {"entry_id", "user_id", "kind", "ref", "amount", "created_at"}


def test_a_pinned_weight_fails_the_transaction_once_the_contribution_reached_the_next_threshold(repo, services):
    user = uid("u")
    tx = repo.begin()
    repo.hold_below(tx, user, 100)  # no balance yet: 0 is below
    tx.commit()
    add(repo, entry(user, amount=100))
    tx = repo.begin()
    repo.hold_below(tx, user, 100)
    with pytest.raises(LostRace):
        tx.commit()
    tx = repo.begin()
    repo.hold_below(tx, user, 1000)
    tx.commit()
