"""RoyaltyRepository against DynamoDB Local: one record per order on a work list sorted by when its work is due,
moves from the status read, and lines written once."""

from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo import LostRace, Replay
from chalicelib.adapters.royalties_repo import RoyaltyRepository
from tests.helpers import uid


@pytest.fixture
def royalties(services) -> RoyaltyRepository:
    return RoyaltyRepository(services.table)


def _line(points: int = 40) -> dict:
    return {"sku": uid("SKU").upper(), "designer_id": uid("u"), "design_id": uid("d"), "qty": 1, "points": points}


def _owe(royalties, at: str, lines: int = 2) -> str:
    order_id = uid("o")
    tx = royalties.begin()
    royalties.add(tx, order_id, [_line() for _ in range(lines)], at)
    tx.commit()
    return order_id


def _listed(royalties, before: str, limit: int = 100) -> list[str]:
    return [r["order_id"] for r in royalties.due(before, limit)]


def test_one_record_per_order_holds_every_line_and_is_listed_for_its_work(royalties):
    noon = _owe(royalties, "2024-05-01T12:00:00.000Z", lines=50)
    morning = _owe(royalties, "2024-05-01T08:00:00.000Z")
    _owe(royalties, "2024-05-01T12:00:00.001Z")
    assert _listed(royalties, "2024-05-01T12:00:00.000Z") == [morning, noon]
    assert _listed(royalties, "2024-05-01T12:00:00.000Z", limit=1) == [morning]
    record = royalties.get(noon)
    assert (record["status"], len(record["lines"])) == ("pending", 50)


def test_a_move_takes_the_record_off_the_list_or_lists_it_for_later(royalties):
    order_id = _owe(royalties, "2024-05-01T08:00:00.000Z")
    tx = royalties.begin()
    royalties.move(
        tx, royalties.get(order_id), "due", list_at="2024-05-08T08:00:00.000Z", due_at="2024-05-08T08:00:00.000Z"
    )
    tx.commit()
    assert _listed(royalties, "2024-05-07T00:00:00.000Z") == []
    assert _listed(royalties, "2024-05-08T08:00:00.001Z") == [order_id]
    record = royalties.get(order_id)
    assert (record["status"], record["due_at"]) == ("due", "2024-05-08T08:00:00.000Z")
    tx = royalties.begin()
    royalties.move(tx, record, "credited")
    tx.commit()
    assert _listed(royalties, "2099-01-01T00:00:00.000Z") == [] and "gsi1pk" not in royalties.get(order_id)


def test_a_move_from_a_stale_status_loses_the_race_and_changes_nothing(royalties):
    order_id = _owe(royalties, "2024-05-01T08:00:00.000Z")
    stale = royalties.get(order_id)
    tx = royalties.begin()
    royalties.move(tx, stale, "voided", list_at="2024-05-02T00:00:00.000Z")
    tx.commit()
    tx = royalties.begin()
    royalties.move(tx, stale, "due", list_at="2024-05-09T00:00:00.000Z")
    with pytest.raises(LostRace):
        tx.commit()
    assert royalties.get(order_id)["status"] == "voided"


def test_a_condition_on_the_records_status_fails_with_the_given_error(royalties):
    order_id = _owe(royalties, "2024-05-01T08:00:00.000Z")
    tx = royalties.begin()
    royalties.require(tx, order_id, ("due",), on_fail=Replay)
    with pytest.raises(Replay):
        tx.commit()
    tx = royalties.begin()
    royalties.require(tx, order_id, ("pending", "due"), on_fail=Replay)
    tx.commit()


def test_a_line_is_written_once_and_then_only_from_the_status_read(royalties):
    order_id = _owe(royalties, "2024-05-01T08:00:00.000Z")
    line = royalties.get(order_id)["lines"][0]
    tx = royalties.begin()
    royalties.put_line(tx, order_id, line, "pending", None, "2024-05-01T08:00:01.000Z", on_fail=Replay)
    tx.commit()
    tx = royalties.begin()
    royalties.put_line(tx, order_id, line, "pending", None, "2024-05-01T08:00:02.000Z", on_fail=Replay)
    with pytest.raises(Replay):
        tx.commit()
    read = royalties.line(order_id, line["sku"])
    tx = royalties.begin()
    royalties.put_line(tx, order_id, line, "credited", read, "2024-05-08T08:00:00.000Z", on_fail=LostRace)
    tx.commit()
    tx = royalties.begin()
    royalties.put_line(tx, order_id, line, "voided", read, "2024-05-08T09:00:00.000Z", on_fail=LostRace)
    with pytest.raises(LostRace):
        tx.commit()
    assert royalties.line(order_id, line["sku"])["status"] == "credited"
    assert set(royalties.lines(order_id)) == {line["sku"]}
