"""DynamoDB records of royalties owed to designers: one per paid order line of a designer's product."""
from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.dynamo import Table, key, to_values

DUE = "ROYALTY#DUE"


def royalty_key(order_id: str, sku: str) -> dict[str, Any]:
    return key(f"ROYALTY#{order_id}", f"LINE#{sku}")


class RoyaltyRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def record_op(self, record: dict[str, Any]) -> dict[str, Any]:
        item = {"pk": f"ROYALTY#{record['order_id']}", "sk": f"LINE#{record['sku']}", **record, "status": "due",
                "gsi1pk": DUE, "gsi1sk": f"{record['created_at']}#{record['order_id']}#{record['sku']}"}
        return self.table.put(item, "attribute_not_exists(pk)")

    def of_order(self, order_id: str) -> list[dict[str, Any]]:
        items, _ = self.table.query_page(f"ROYALTY#{order_id}", "LINE#", 100, None)
        return items

    def get(self, order_id: str, sku: str) -> Optional[dict[str, Any]]:
        return self.table.get(royalty_key(order_id, sku))

    def due(self, before_iso: str, limit: int = 100) -> list[dict[str, Any]]:
        out = self.table.client.query(
            TableName=self.table.name, IndexName="gsi1", Limit=limit,
            KeyConditionExpression="gsi1pk = :p AND gsi1sk < :t",
            ExpressionAttributeValues=to_values({":p": DUE, ":t": before_iso + "~"}))
        return [self.get(i["pk"]["S"].split("#", 1)[1], i["sk"]["S"].split("#", 1)[1]) for i in out.get("Items", [])]

    def move_op(self, record: dict[str, Any], to: str, due: bool) -> dict[str, Any]:
        """Move a record from the status it was read with; `due` keeps it on the list of work to settle."""
        expression = "SET #st = :to" + (", gsi1pk = :due, gsi1sk = :sort" if due else " REMOVE gsi1pk, gsi1sk")
        values: dict[str, Any] = {":to": to, ":from": record["status"]}
        if due:
            values.update({":due": DUE, ":sort": f"{record['created_at']}#{record['order_id']}#{record['sku']}"})
        return self.table.update(royalty_key(record["order_id"], record["sku"]), expression, values,
                                 condition="#st = :from", names={"#st": "status"})
