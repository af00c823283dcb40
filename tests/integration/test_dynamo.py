"""Transaction and Table against DynamoDB Local: all-or-nothing writes, the error each failed operation means,
and the reads the work lists and listings rely on."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import Contention, LostRace, Replay, Table, key
from chalicelib.domain.errors import AlreadyExists, InvalidRequest, NotFound
from tests.helpers import uid
from tests.integration.builders import stored


class NoCalls:
    """A DynamoDB client that fails the test if it is used at all."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"DynamoDB was called ({name})")


def _item(pk: str, **fields: Any) -> dict[str, Any]:
    return {"pk": pk, "sk": "META", **fields}


def test_a_failed_condition_raises_the_error_of_the_operation_that_failed_and_writes_nothing(services):
    table = services.table
    taken = uid("taken")
    table.put_if_absent(_item(taken, n=1))
    fresh, updated = uid("fresh"), uid("upd")
    table.put_if_absent(_item(updated, n=1))
    first, second = NotFound("not this one"), AlreadyExists("this one")
    tx = table.transaction()
    tx.create(_item(fresh), on_fail=first)
    tx.update(key(updated, "META"), "SET n = :n", {":n": 2})
    tx.create(_item(taken, n=99), on_fail=second)
    with pytest.raises(AlreadyExists) as raised:
        tx.commit()
    assert raised.value is second
    assert stored(table, key(fresh, "META")) == []
    assert table.get(key(updated, "META"))["n"] == 1 and table.get(key(taken, "META"))["n"] == 1


@pytest.mark.parametrize("form", ["instance", "class", "callable"])
def test_on_fail_may_be_an_exception_its_class_or_a_function_that_builds_it(services, form):
    table = services.table
    pk = uid("once")
    table.put_if_absent(_item(pk))
    error = Replay("first answer stands")
    on_fail = {"instance": error, "class": Replay, "callable": lambda: error}[form]
    tx = table.transaction()
    tx.create(_item(pk, n=2), on_fail=on_fail)
    with pytest.raises(Replay):
        tx.commit()
    assert "n" not in table.get(key(pk, "META"))


def test_the_on_fail_function_runs_only_when_its_condition_fails(services):
    calls: list[str] = []

    def build() -> Exception:
        calls.append("built")
        return NotFound("gone")

    tx = services.table.transaction()
    tx.create(_item(uid("new")), on_fail=build)
    tx.commit()
    assert calls == []


def test_a_changed_value_raises_lost_race_by_default(services):
    table = services.table
    pk = uid("cas")
    table.put_if_absent(_item(pk, version=2))
    tx = table.transaction()
    tx.put(_item(pk, version=2, title="planned from version 1"), "version = :v", {":v": 1})
    with pytest.raises(LostRace):
        tx.commit()
    assert "title" not in table.get(key(pk, "META"))


def test_a_failed_check_on_an_unwritten_item_cancels_the_writes(services):
    table = services.table
    guard, written = uid("guard"), uid("w")
    table.put_if_absent(_item(guard, door="closed"))
    tx = table.transaction()
    tx.create(_item(written))
    tx.check(key(guard, "META"), "door = :open", {":open": "open"}, on_fail=NotFound("closed"))
    with pytest.raises(NotFound):
        tx.commit()
    assert stored(table, key(written, "META")) == []


def test_two_operations_on_one_item_are_refused_whole(services):
    table = services.table
    pk = uid("twice")
    tx = table.transaction()
    tx.create(_item(pk))
    tx.update(key(pk, "META"), "SET n = :n", {":n": 1})
    with pytest.raises(ClientError):
        tx.commit()
    assert stored(table, key(pk, "META")) == []


def test_a_hundred_items_commit_together(services):
    table = services.table
    pks = [uid("many") for _ in range(100)]
    tx = table.transaction()
    for pk in pks:
        tx.create(_item(pk))
    tx.commit()
    assert len(stored(table, *[key(pk, "META") for pk in pks])) == 100


def test_more_than_a_hundred_items_is_an_invalid_request_without_calling_dynamodb():
    tx = Table(NoCalls(), "store").transaction()
    for n in range(101):
        tx.create(_item(f"x{n}"))
    with pytest.raises(InvalidRequest) as raised:
        tx.commit()
    assert raised.value.details == {"items": 101, "max_items": 100}


def test_an_empty_transaction_commits_without_calling_dynamodb():
    tx = Table(NoCalls(), "store").transaction()
    assert len(tx) == 0
    tx.commit()


class CancelledClient:
    """A client whose transactions are cancelled the way DynamoDB reports a conflict with another transaction
    (DynamoDB Local serialises transactions, so it never reports one)."""

    def __init__(self, codes: list[str]) -> None:
        self.codes = codes

    def transact_write_items(self, **_: Any) -> None:
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                "CancellationReasons": [{"Code": c} for c in self.codes],
            },
            "TransactWriteItems",
        )


def test_a_cancellation_without_a_failed_condition_is_contention():
    tx = Table(CancelledClient(["None", "TransactionConflict"]), "store").transaction()
    tx.create(_item("a"), on_fail=NotFound("not a condition"))
    tx.create(_item("b"), on_fail=NotFound("not a condition"))
    with pytest.raises(Contention) as raised:
        tx.commit()
    assert raised.value.codes == ["None", "TransactionConflict"]


def test_due_lists_only_the_partition_below_the_bound_oldest_first(services):
    table = services.table
    work, other = uid("WORK"), uid("OTHER")
    for at in ("2024-05-01T10:00", "2024-05-01T08:00", "2024-05-01T12:00", "2024-05-01T09:00"):
        table.put_if_absent(_item(uid("w"), gsi1pk=work, gsi1sk=f"{at}#x", at=at))
    table.put_if_absent(_item(uid("w"), gsi1pk=other, gsi1sk="2024-05-01T07:00#x", at="other"))
    assert [i["at"] for i in table.due(work, "2024-05-01T11:00")] == [
        "2024-05-01T08:00",
        "2024-05-01T09:00",
        "2024-05-01T10:00",
    ]
    assert [i["at"] for i in table.due(work, "2024-05-01T11:00", limit=2)] == ["2024-05-01T08:00", "2024-05-01T09:00"]
    assert table.due(work, "2024-05-01T08:00") == []


@pytest.mark.parametrize("limit", [2, 5])
def test_page_lists_newest_first_and_its_next_key_continues_without_gaps(services, limit):
    table = services.table
    listing = uid("LIST")
    sorts = [f"2024-05-0{d}T08:00#{uid('x')}" for d in range(1, 6)]
    for s in sorts:
        table.put_if_absent(_item(uid("i"), gsi4pk=listing, gsi4sk=s, at=s))
    table.put_if_absent(_item(uid("i"), gsi4pk=uid("LIST"), gsi4sk="2024-05-09T08:00#x", at="elsewhere"))
    seen, start, pages = [], None, 0
    while True:
        items, start = table.page("gsi4", listing, limit, start)
        assert len(items) <= limit
        seen += [i["at"] for i in items]
        pages += 1
        if start is None:
            break
    assert seen == sorted(sorts, reverse=True)
    assert pages == -(-len(sorts) // limit)


def test_put_if_absent_never_overwrites(services):
    table = services.table
    pk = uid("p")
    assert table.put_if_absent(_item(pk, n=1)) is True
    assert table.put_if_absent(_item(pk, n=2)) is False
    assert table.get(key(pk, "META"))["n"] == 1
