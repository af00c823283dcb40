"""BookingRepository against DynamoDB Local: a resource and its SKU written together once, slots raised only within
capacity, given back, a day's bookings, loans out by due date and returned once; reconcile flags a slot whose count
its bookings do not explain."""

from __future__ import annotations

import pytest

from chalicelib.adapters.bookings_repo import BookingRepository, slot_key
from chalicelib.domain.errors import AlreadyExists, Conflict, NotFound, SlotFull
from chalicelib.domain.orders import BookingDetail
from tests.helpers import uid
from tools.reconcile import booking_differences

pytestmark = pytest.mark.usefixtures("throwaway")  # repositories written alone: not for the final reconcile


@pytest.fixture
def repo(services) -> BookingRepository:
    return BookingRepository(services.table)


def _resource(repo, rid: str = "room-1", kind: str = "room", capacity: int = 2) -> None:
    repo.create(
        {"resource_id": rid, "house": "nio-house-sh", "kind": kind, "capacity": capacity},
        {"sku": f"RES-{rid}", "status": "active", "terms_version": 7, "kind": "booking"},
        lambda tx: None,
    )


def _detail(rid: str = "room-1", kind: str = "room", slots=("2026-12-07 10:00",)) -> BookingDetail:
    return BookingDetail(
        resource_id=rid,
        house="nio-house-sh",
        kind=kind,
        date="2026-12-07",
        start="10:00",
        slots=len(slots),
        starts_at="2026-12-07T02:00:00.000Z",
        ends_at="2026-12-09T16:00:00.000Z",
        cancel_until="2026-12-07T00:00:00.000Z",
        slot_starts=list(slots),
    )


def _take(repo, detail: BookingDetail, capacity: int = 2, terms: int = 7) -> str:
    order_id = uid("o")
    tx = repo._table.transaction()
    order = {"order_id": order_id, "user_id": "u", "title": "Room"}
    repo.take(tx, detail, capacity, f"RES-{detail.resource_id}", terms, order, lambda slot: SlotFull(slot))
    tx.commit()
    return order_id


def test_a_resource_is_written_once_with_its_sku(repo, services):
    _resource(repo)
    with pytest.raises(AlreadyExists):
        _resource(repo)
    assert repo.get("room-1")["capacity"] == 2 and [r["resource_id"] for r in repo.of_house("nio-house-sh")] == [
        "room-1"
    ]
    assert services.table.get({"pk": {"S": "SKU#RES-room-1"}, "sk": {"S": "META"}})["terms_version"] == 7


def test_a_slot_takes_its_capacity_and_no_more_and_gives_back(repo):
    _resource(repo)
    two = ("2026-12-07 10:00", "2026-12-07 11:00")
    first = _take(repo, _detail(slots=two))
    _take(repo, _detail())
    with pytest.raises(SlotFull):
        _take(repo, _detail(slots=two))
    assert repo.taken("room-1", "2026-12-07") == {"10:00": 2, "11:00": 1}
    tx = repo._table.transaction()
    repo.give_back(tx, _detail(slots=two), first)
    tx.commit()
    assert repo.taken("room-1", "2026-12-07") == {"10:00": 1, "11:00": 0}
    assert len(repo.bookings("room-1", "2026-12-07")) == 1


def test_terms_changed_since_the_read_is_a_lost_race(repo):
    from chalicelib.adapters.dynamo import LostRace

    _resource(repo)
    with pytest.raises(LostRace):
        _take(repo, _detail(), terms=6)
    assert repo.taken("room-1", "2026-12-07") == {}


def test_a_loan_is_out_until_returned_once(repo):
    _resource(repo, "book-1", "book")
    order_id = _take(repo, _detail("book-1", "book"))
    out = repo.loans_out("9999")
    assert [x["order_id"] for x in out] == [order_id] and out[0]["due_at"] == "2026-12-09T16:00:00.000Z"
    assert repo.loans_out("2026-12-09T16:00:00.000Z") == []  # not yet overdue at due_at
    back = repo.return_loan(f"{order_id}.book-1", "2026-12-10T00:00:00.000Z", "merch")
    assert back["returned_at"] == "2026-12-10T00:00:00.000Z" and repo.loans_out("9999") == []
    with pytest.raises(Conflict):
        repo.return_loan(f"{order_id}.book-1", "2026-12-10T00:00:00.000Z", "merch")
    with pytest.raises(NotFound):
        repo.return_loan("o-none.book-1", "x", "merch")


def test_reconcile_flags_a_slot_its_bookings_do_not_explain(repo, services):
    _resource(repo)
    _take(repo, _detail())
    services.table.client.update_item(
        TableName=services.table.name,
        Key=slot_key("room-1", "2026-12-07", "10:00"),
        UpdateExpression="ADD taken :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    problems = [d.describe() for d in booking_differences(services.dynamodb, services.table)]
    assert any("slot room-1 2026-12-07 10:00" in p and "holds 2" in p for p in problems), problems
    assert any("order is missing" in p for p in problems)  # written alone, without its order
