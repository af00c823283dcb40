"""DynamoDB records of what designers earn on an order: one record per order (written in the order's own
transaction, whatever its number of lines) and one item per line as it is settled (key formats: infra/README.md).

The order record moves pending -> due -> credited, or to voided (then closed) when the order is cancelled or
refunded; while there is work (lines to accrue, credit or undo) it is on the gsi1 list `ROYALTY#DUE`, sorted by
when that work is due. A line moves pending -> credited, pending -> voided, credited -> reversed; every move is a
condition on the status it was read in.
"""

from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.dynamo import OnFail, Table, Transaction, key

# Not ROYALTY#DUE, which listed the per-line records of the previous shape: those can never crowd this list.
DUE = "ROYALTY#WORK"
ORDER = "ORDER"


def _order_key(order_id: str) -> dict[str, Any]:
    return key(f"ROYALTY#{order_id}", ORDER)


def _line_key(order_id: str, sku: str) -> dict[str, Any]:
    return key(f"ROYALTY#{order_id}", f"LINE#{sku}")


class RoyaltyRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def begin(self) -> Transaction:
        return self.table.transaction()

    # -- the order's record ------------------------------------------------------------------
    def add(self, tx: Transaction, order_id: str, lines: list[dict[str, Any]], at: str) -> None:
        """What a paid order owes its designers (`lines`: sku, designer_id, design_id, qty, points), pending until
        the return window closes; listed at once so its lines are accrued (shown as pending)."""
        tx.create(
            {
                "pk": f"ROYALTY#{order_id}",
                "sk": ORDER,
                "order_id": order_id,
                "lines": lines,
                "status": "pending",
                "created_at": at,
                "gsi1pk": DUE,
                "gsi1sk": f"{at}#{order_id}",
            }
        )

    def get(self, order_id: str) -> Optional[dict[str, Any]]:
        return self.table.get(_order_key(order_id))

    def due(self, before_iso: str, limit: int = 100) -> list[dict[str, Any]]:
        """Order records with work due before `before_iso`, oldest first."""
        return self.table.due(DUE, before_iso + "~", limit)

    def move(
        self, tx: Transaction, record: dict[str, Any], to: str, list_at: Optional[str] = None, **fields: Any
    ) -> None:
        """Move the order record from the status it was read in (LostRace else); `list_at` puts it on the work
        list at that time, None takes it off."""
        sets = {"st": to, **fields}
        expression = "SET " + ", ".join(f"#{k} = :{k}" for k in sets)
        values: dict[str, Any] = {f":{k}": v for k, v in sets.items()}
        values[":from"] = record["status"]
        if list_at:
            expression += ", gsi1pk = :due, gsi1sk = :sort"
            values.update({":due": DUE, ":sort": f"{list_at}#{record['order_id']}"})
        else:
            expression += " REMOVE gsi1pk, gsi1sk"
        names = {f"#{k}": k for k in sets}
        names["#st"] = "status"
        tx.update(_order_key(record["order_id"]), expression, values, condition="#st = :from", names=names)

    def require(self, tx: Transaction, order_id: str, statuses: tuple[str, ...], *, on_fail: OnFail) -> None:
        """A condition that the order record is still in one of `statuses` when `tx` commits."""
        values = {f":s{i}": s for i, s in enumerate(statuses)}
        tx.check(
            _order_key(order_id), f"#st IN ({', '.join(values)})", values, names={"#st": "status"}, on_fail=on_fail
        )

    # -- lines -------------------------------------------------------------------------------
    def line(self, order_id: str, sku: str) -> Optional[dict[str, Any]]:
        return self.table.get(_line_key(order_id, sku))

    def lines(self, order_id: str) -> dict[str, dict[str, Any]]:
        items, _ = self.table.query_page(f"ROYALTY#{order_id}", "LINE#", 100, None)
        return {i["sku"]: i for i in items}

    def put_line(
        self,
        tx: Transaction,
        order_id: str,
        line: dict[str, Any],
        status: str,
        read: Optional[dict[str, Any]],
        at: str,
        *,
        on_fail: OnFail,
    ) -> None:
        """Write the line in `status`, only if it is still as `read` (None: not there yet)."""
        item = {
            "pk": f"ROYALTY#{order_id}",
            "sk": f"LINE#{line['sku']}",
            **line,
            "order_id": order_id,
            "status": status,
            "updated_at": at,
        }
        if read is None:
            tx.create(item, on_fail=on_fail)
        else:
            tx.put(item, "#st = :from", {":from": read["status"]}, names={"#st": "status"}, on_fail=on_fail)
