"""DynamoDB repository of NIO House bookings (key formats: infra/README.md): resources and the SKU checkout prices
their booking lines as, one item per slot taken (its count held within capacity by the order's transaction), the
bookings of a resource's day, and book loans with their work list of what is out."""

from __future__ import annotations

from typing import Any, Callable, Optional

from chalicelib.adapters.dynamo import LostRace, OnFail, Table, Transaction, key, to_values
from chalicelib.domain.errors import AlreadyExists, Conflict, NotFound
from chalicelib.domain.orders import BookingDetail

LOANS_OUT = "LOAN#OUT"  # gsi1: loans not returned yet, by due_at


def resource_key(resource_id: str) -> dict[str, Any]:
    return key(f"RESOURCE#{resource_id}", "META")


def slot_key(resource_id: str, date: str, start: str) -> dict[str, Any]:
    return key(f"SLOT#{resource_id}#{date}", start)


def loan_key(loan_id: str) -> dict[str, Any]:
    return key(f"LOAN#{loan_id}", "META")


def loan_id(order_id: str, resource_id: str) -> str:
    return f"{order_id}.{resource_id}"


def _dates(booking: BookingDetail) -> list[str]:
    return sorted({slot.split(" ")[0] for slot in booking.slot_starts})


class BookingRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    # -- resources -----------------------------------------------------------------------------------------
    def create(self, resource: dict[str, Any], sku: dict[str, Any], audit: Callable[[Transaction], None]) -> None:
        """The resource and its booking SKU, audited, in one transaction."""
        rid = resource["resource_id"]
        tx = self._table.transaction()
        tx.create(
            {
                "pk": f"RESOURCE#{rid}",
                "sk": "META",
                "gsi2pk": f"RESOURCE#H#{resource['house']}",
                "gsi2sk": f"{resource['kind']}#{rid}",
                **resource,
            },
            on_fail=AlreadyExists(f"resource {rid!r} already exists", {"resource_id": rid}),
        )
        tx.create(
            {"pk": f"SKU#{sku['sku']}", "sk": "META", **sku},
            on_fail=AlreadyExists(f"sku {sku['sku']!r} already exists", {"sku": sku["sku"]}),
        )
        audit(tx)
        tx.commit()

    def get(self, resource_id: str) -> Optional[dict[str, Any]]:
        return self._table.get(resource_key(resource_id))

    def of_house(self, house: str) -> list[dict[str, Any]]:
        return sorted(self._table.partition("gsi2", f"RESOURCE#H#{house}"), key=lambda r: r["gsi2sk"])

    def taken(self, resource_id: str, date: str) -> dict[str, int]:
        """{slot start: bookings it holds} on a date (one Query; a slot never booked has no item)."""
        params = {
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_values({":pk": f"SLOT#{resource_id}#{date}"}),
        }
        return {i["sk"]: int(i.get("taken", 0)) for i in self._table.query_all(params)}

    def bookings(self, resource_id: str, date: str) -> list[dict[str, Any]]:
        """The bookings of a resource's day, by start (one Query)."""
        params = {
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_values({":pk": f"BOOKING#{resource_id}#{date}"}),
        }
        return list(self._table.query_all(params))

    # -- in the order's transaction --------------------------------------------------------------------------
    def take(
        self,
        tx: Transaction,
        booking: BookingDetail,
        capacity: int,
        sku: str,
        terms_version: int,
        order: dict[str, Any],
        on_full: Callable[[str], OnFail],
    ) -> None:
        """Add to `tx`: the booking SKU still active on the terms read (LostRace), each slot's count raised on
        condition it stays within `capacity` (`on_full(start)`), the booking on its day and, for a book, the loan."""
        tx.check(
            key(f"SKU#{sku}", "META"),
            "#status = :active AND terms_version = :terms",
            {":active": "active", ":terms": terms_version},
            names={"#status": "status"},
            on_fail=LostRace,
        )
        for slot in booking.slot_starts:
            date, start = slot.split(" ")
            tx.update(
                slot_key(booking.resource_id, date, start),
                "SET taken = if_not_exists(taken, :zero) + :one",
                {":zero": 0, ":one": 1, ":cap": capacity},
                condition="attribute_not_exists(taken) OR taken < :cap",
                on_fail=on_full(slot),
            )
        for date in _dates(booking):  # on each day it covers (a book's loan runs over several)
            tx.create(
                {
                    "pk": f"BOOKING#{booking.resource_id}#{date}",
                    "sk": f"{booking.start}#{order['order_id']}",
                    **booking.model_dump(),
                    **order,
                }
            )
        if booking.kind == "book":
            lid = loan_id(order["order_id"], booking.resource_id)
            tx.create(
                {
                    "pk": f"LOAN#{lid}",
                    "sk": "META",
                    "gsi1pk": LOANS_OUT,
                    "gsi1sk": f"{booking.ends_at}#{lid}",
                    "loan_id": lid,
                    "resource_id": booking.resource_id,
                    "house": booking.house,
                    "starts_at": booking.starts_at,
                    "due_at": booking.ends_at,
                    **order,
                }
            )

    def give_back(self, tx: Transaction, booking: BookingDetail, order_id: str) -> None:
        """Add to `tx`: the booking's slots free again, its day's record and its loan (if any) gone."""
        for slot in booking.slot_starts:
            date, start = slot.split(" ")
            tx.update(
                slot_key(booking.resource_id, date, start),
                "ADD taken :minus",
                {":minus": -1, ":one": 1},
                condition="taken >= :one",
            )
        for date in _dates(booking):
            tx.delete(key(f"BOOKING#{booking.resource_id}#{date}", f"{booking.start}#{order_id}"))
        if booking.kind == "book":
            tx.delete(loan_key(loan_id(order_id, booking.resource_id)))

    # -- loans ---------------------------------------------------------------------------------------------
    def loans_out(self, before: str) -> list[dict[str, Any]]:
        """Loans not returned whose due_at is before `before`, soonest due first (at most 500)."""
        return self._table.due(LOANS_OUT, before, limit=500)

    def return_loan(self, lid: str, at: str, by: str) -> dict[str, Any]:
        found = self._table.get(loan_key(lid))
        if not found:
            raise NotFound(f"no loan {lid!r}", {"loan_id": lid})
        if found.get("returned_at"):
            raise Conflict(
                f"loan {lid!r} was returned at {found['returned_at']}", {"returned_at": found["returned_at"]}
            )
        tx = self._table.transaction()
        tx.update(
            loan_key(lid),
            "SET returned_at = :at, returned_to = :by REMOVE gsi1pk, gsi1sk",
            {":at": at, ":by": by},
            condition="attribute_exists(pk) AND attribute_not_exists(returned_at)",
            on_fail=Conflict(f"loan {lid!r} was returned already"),
        )
        tx.commit()
        return {**found, "returned_at": at}
