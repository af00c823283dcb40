"""RoyaltyRepository against DynamoDB Local: what is owed to designers, the settlement work list and moves from
the status read."""
from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo import LostRace
from chalicelib.adapters.royalties_repo import RoyaltyRepository
from tests.helpers import uid


@pytest.fixture
def royalties(services) -> RoyaltyRepository:
    return RoyaltyRepository(services.table)


def _owe(royalties, at: str, order_id: str = "", sku: str = "") -> dict:
    record = {"order_id": order_id or uid("o"), "sku": sku or uid("SKU").upper(), "designer_id": uid("u"),
              "design_id": uid("d"), "qty": 1, "created_at": at, "points": 40}
    tx = royalties.table.transaction()
    royalties.add(tx, record)
    tx.commit()
    return record


def _move(royalties, record: dict, to: str, due: bool) -> None:
    tx = royalties.table.transaction()
    royalties.move(tx, record, to, due)
    tx.commit()


def _due(royalties, before: str, limit: int = 100) -> list[tuple[str, str]]:
    return [(r["order_id"], r["sku"]) for r in royalties.due(before, limit)]


def test_due_lists_records_created_up_to_the_bound_oldest_first(royalties):
    noon = _owe(royalties, "2024-05-01T12:00:00.000Z")
    morning = _owe(royalties, "2024-05-01T08:00:00.000Z")
    _owe(royalties, "2024-05-01T12:00:00.001Z")
    assert _due(royalties, "2024-05-01T12:00:00.000Z") == [(morning["order_id"], morning["sku"]),
                                                            (noon["order_id"], noon["sku"])]
    assert _due(royalties, "2024-05-01T12:00:00.000Z", limit=1) == [(morning["order_id"], morning["sku"])]
    assert royalties.get(noon["order_id"], noon["sku"])["status"] == "due"


def test_a_settled_record_leaves_the_list_and_a_reversal_puts_it_back(royalties):
    record = _owe(royalties, "2024-05-01T08:00:00.000Z")
    bound = "2024-05-02T00:00:00.000Z"
    _move(royalties, royalties.get(record["order_id"], record["sku"]), "credited", due=False)
    assert _due(royalties, bound) == []
    credited = royalties.get(record["order_id"], record["sku"])
    _move(royalties, credited, "reversal_due", due=True)
    assert [r["status"] for r in royalties.due(bound)] == ["reversal_due"]


def test_moving_from_a_stale_status_loses_the_race(royalties):
    record = _owe(royalties, "2024-05-01T08:00:00.000Z")
    stale = royalties.get(record["order_id"], record["sku"])
    _move(royalties, stale, "credited", due=False)
    with pytest.raises(LostRace):
        _move(royalties, stale, "voided", due=False)
    assert royalties.get(record["order_id"], record["sku"])["status"] == "credited"
    assert _due(royalties, "2024-05-02T00:00:00.000Z") == []


def test_an_order_line_is_owed_once_and_an_order_lists_its_lines(royalties):
    order_id = uid("o")
    first = _owe(royalties, "2024-05-01T08:00:00.000Z", order_id, "SKU-A")
    _owe(royalties, "2024-05-01T08:00:00.000Z", order_id, "SKU-B")
    with pytest.raises(LostRace):
        _owe(royalties, "2024-05-01T09:00:00.000Z", order_id, "SKU-A")
    assert sorted(r["sku"] for r in royalties.of_order(order_id)) == ["SKU-A", "SKU-B"]
    assert royalties.get(order_id, "SKU-A")["designer_id"] == first["designer_id"]
    assert len(royalties.due("2024-05-02T00:00:00.000Z")) == 2
