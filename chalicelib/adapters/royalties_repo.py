"""DynamoDB records of royalties owed to designers: one per paid order line of a designer's product."""
from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.dynamo import Table, Transaction, key

DUE = "ROYALTY#DUE"


def royalty_key(order_id: str, sku: str) -> dict[str, Any]:
    return key(f"ROYALTY#{order_id}", f"LINE#{sku}")


def _due_sort(record: dict[str, Any]) -> str:
    return f"{record['created_at']}#{record['order_id']}#{record['sku']}"


class RoyaltyRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, tx: Transaction, record: dict[str, Any]) -> None:
        tx.create({"pk": f"ROYALTY#{record['order_id']}", "sk": f"LINE#{record['sku']}", **record, "status": "due",
                   "gsi1pk": DUE, "gsi1sk": _due_sort(record)})

    def of_order(self, order_id: str) -> list[dict[str, Any]]:
        items, _ = self.table.query_page(f"ROYALTY#{order_id}", "LINE#", 100, None)
        return items

    def get(self, order_id: str, sku: str) -> Optional[dict[str, Any]]:
        return self.table.get(royalty_key(order_id, sku))

    def due(self, before_iso: str, limit: int = 100) -> list[dict[str, Any]]:
        """Records to settle (due or reversal_due) created before `before_iso`, oldest first."""
        return self.table.due(DUE, before_iso + "~", limit)

    def move(self, tx: Transaction, record: dict[str, Any], to: str, due: bool) -> None:
        """Move a record from the status it was read with; `due` keeps it on the list of work to settle."""
        expression = "SET #st = :to" + (", gsi1pk = :due, gsi1sk = :sort" if due else " REMOVE gsi1pk, gsi1sk")
        values: dict[str, Any] = {":to": to, ":from": record["status"]}
        if due:
            values.update({":due": DUE, ":sort": _due_sort(record)})
        tx.update(royalty_key(record["order_id"], record["sku"]), expression, values,
                  condition="#st = :from", names={"#st": "status"})
