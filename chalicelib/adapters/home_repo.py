"""DynamoDB repository of the home's curated entries (key formats: infra/README.md): every collection and banner in
one partition (the home reads it with one Query), and a count per kind that caps how many there are."""

from __future__ import annotations

from typing import Any, Callable

from chalicelib.adapters.dynamo import Table, Transaction, key, to_values
from chalicelib.domain.errors import AlreadyExists, Conflict, NotFound

HOME = "HOME"
Kind = str  # "collection" or "banner"


def entry_key(kind: Kind, entry_id: str) -> dict[str, Any]:
    return key(HOME, f"{kind.upper()}#{entry_id}")


class HomeRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def entries(self) -> list[dict[str, Any]]:
        """Every collection and banner (each with its `kind`): one Query (at most 70 items)."""
        params = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_values({":pk": HOME}),
            "ConsistentRead": True,
        }
        return [i for i in self._table.query_all(params) if i["sk"].split("#", 1)[0] in ("COLLECTION", "BANNER")]

    def get(self, kind: Kind, entry_id: str) -> dict[str, Any]:
        found = self._table.get(entry_key(kind, entry_id))
        if not found:
            raise NotFound(f"no {kind} {entry_id!r}", {f"{kind}_id": entry_id})
        return found

    def create(self, kind: Kind, entry: dict[str, Any], most: int, audit: Callable[[Transaction], None]) -> None:
        """A new entry, while its kind has fewer than `most` (409 conflict beyond)."""
        entry_id = entry[f"{kind}_id"]
        tx = self._table.transaction()
        tx.create(
            {**{k: v["S"] for k, v in entry_key(kind, entry_id).items()}, **entry, "kind": kind, "version": 1},
            on_fail=AlreadyExists(f"{kind} {entry_id!r} already exists", {f"{kind}_id": entry_id}),
        )
        tx.update(
            key(HOME, f"COUNT#{kind}"),
            "ADD n :one",
            {":one": 1, ":most": most},
            condition="attribute_not_exists(n) OR n < :most",
            on_fail=Conflict(f"there are {most} {kind}s already: delete one first", {"most": most}),
        )
        audit(tx)
        tx.commit()

    def replace(self, kind: Kind, entry: dict[str, Any], version: int, audit: Callable[[Transaction], None]) -> None:
        """`entry` over the stored one if nobody changed it since it was read at `version` (409 conflict)."""
        entry_id = entry[f"{kind}_id"]
        tx = self._table.transaction()
        tx.put(
            {
                **{k: v["S"] for k, v in entry_key(kind, entry_id).items()},
                **entry,
                "kind": kind,
                "version": version + 1,
            },
            "attribute_exists(pk) AND version = :read",
            {":read": version},
            on_fail=Conflict(
                f"{kind} {entry_id!r} changed while saving; reload and try again", {f"{kind}_id": entry_id}
            ),
        )
        audit(tx)
        tx.commit()

    def delete(self, kind: Kind, entry_id: str, audit: Callable[[Transaction], None]) -> None:
        tx = self._table.transaction()
        tx.delete(
            entry_key(kind, entry_id),
            "attribute_exists(pk)",
            on_fail=NotFound(f"no {kind} {entry_id!r}", {f"{kind}_id": entry_id}),
        )
        tx.update(key(HOME, f"COUNT#{kind}"), "ADD n :minus", {":minus": -1})
        audit(tx)
        tx.commit()
