"""DynamoDB repository of orders and their idempotency records (key formats: infra/README.md)."""
from __future__ import annotations

from typing import Any, Optional

from botocore.exceptions import ClientError

from chalicelib.adapters.catalog_repo import sku_key
from chalicelib.adapters.dynamo import Table, error_code, key, to_values
from chalicelib.adapters.users_repo import profile_key

EXPIRY = "ORDER#EXPIRY"
REFUND_DUE = "ORDER#REFUND_DUE"  # cancelled or refunded, paid in cash, the provider's refund not yet confirmed


def order_key(order_id: str) -> dict[str, Any]:
    return key(f"ORDER#{order_id}", "META")


def idempotency_key(user_id: str, idem_key: str) -> dict[str, Any]:
    return key(f"IDEM#{user_id}", f"KEY#{idem_key}")


def listing(status: Optional[str], user_id: Optional[str]) -> tuple[str, str]:
    if user_id:
        return "gsi3", f"ORDER#U#{user_id}"
    if status:
        return "gsi2", f"ORDER#S#{status}"
    return "gsi4", "ORDER"


def _item(order: dict[str, Any]) -> dict[str, Any]:
    sort = f"{order['created_at']}#{order['order_id']}"
    item = {"pk": f"ORDER#{order['order_id']}", "sk": "META", **order,
            "gsi2pk": f"ORDER#S#{order['status']}", "gsi2sk": sort,
            "gsi3pk": f"ORDER#U#{order['user_id']}", "gsi3sk": sort, "gsi4pk": "ORDER", "gsi4sk": sort}
    if order["status"] == "pending_payment" and order.get("expires_at"):
        item.update(gsi1pk=EXPIRY, gsi1sk=f"{order['expires_at']}#{order['order_id']}")
    elif (order.get("payment") or {}).get("status") == "refund_pending":
        item.update(gsi1pk=REFUND_DUE, gsi1sk=f"{order['updated_at']}#{order['order_id']}")
    return item


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk") and not k.startswith("gsi")}


class OrderRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, order_id: str) -> Optional[dict[str, Any]]:
        item = self.table.get(order_key(order_id))
        return _public(item) if item else None

    def checkout_reads(self, user_id: str, idem_key: Optional[str], skus: list[str]
                       ) -> tuple[Optional[dict[str, Any]], Optional[dict[str, Any]], dict[str, dict[str, Any]]]:
        """One BatchGetItem: (profile, idempotency record, SKU items by sku)."""
        keys = [profile_key(user_id)] + [sku_key(s) for s in skus]
        if idem_key:
            keys.append(idempotency_key(user_id, idem_key))
        profile, record, found = None, None, {}
        for item in self.table.batch_get(keys):
            if item["sk"] == "PROFILE":
                profile = {k: v for k, v in item.items() if k not in ("pk", "sk")}
            elif item["pk"].startswith("IDEM#"):
                record = item
            else:
                found[item["sku"]] = item
        return profile, record, found

    def skus(self, skus: list[str]) -> dict[str, dict[str, Any]]:
        return {i["sku"]: i for i in self.table.batch_get([sku_key(s) for s in skus])}

    def idempotency(self, user_id: str, idem_key: str) -> Optional[dict[str, Any]]:
        return self.table.get(idempotency_key(user_id, idem_key))

    def page(self, status: Optional[str], user_id: Optional[str], limit: int, start: Optional[dict[str, Any]]
             ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        index, partition = listing(status, user_id)
        items, last = self.table.page(index, partition, limit, start)
        return [_public(i) for i in items], last

    def overdue(self, now_iso: str, limit: int = 100) -> list[str]:
        """Pending orders whose payment window closed before `now_iso`."""
        return self._due(EXPIRY, now_iso, limit)

    def refunds_due(self, before_iso: str, limit: int = 100) -> list[str]:
        """Cancelled or refunded orders whose cash refund the provider has not confirmed."""
        return self._due(REFUND_DUE, before_iso, limit)

    def _due(self, partition: str, before_iso: str, limit: int) -> list[str]:
        out = self.table.client.query(
            TableName=self.table.name, IndexName="gsi1", Limit=limit,
            KeyConditionExpression="gsi1pk = :p AND gsi1sk < :t",
            ExpressionAttributeValues=to_values({":p": partition, ":t": before_iso}))
        return [i["gsi1sk"]["S"].rsplit("#", 1)[1] for i in out.get("Items", [])]

    # -- transaction operations --------------------------------------------------------------
    def create_op(self, order: dict[str, Any]) -> dict[str, Any]:
        return self.table.put({**_item(order), "version": 1}, "attribute_not_exists(pk)")

    def save_op(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """Write `after` only if the order is still exactly `before` (version and status)."""
        return self.table.put({**_item(after), "version": before["version"] + 1},
                              "version = :v AND #status = :s", {":v": before["version"], ":s": before["status"]},
                              names={"#status": "status"})

    def idempotency_op(self, user_id: str, idem_key: str, record: dict[str, Any]) -> dict[str, Any]:
        return self.table.put({"pk": f"IDEM#{user_id}", "sk": f"KEY#{idem_key}", **record},
                              "attribute_not_exists(pk)")

    def take_stock_op(self, sku: str, qty: int) -> dict[str, Any]:
        return self.table.update(sku_key(sku), "SET stock = stock - :q", {":q": qty, ":active": "active"},
                                 condition="attribute_exists(pk) AND stock >= :q AND #status = :active",
                                 names={"#status": "status"})

    def return_stock_op(self, sku: str, qty: int) -> dict[str, Any]:
        return self.table.update(sku_key(sku), "SET stock = stock + :q", {":q": qty},
                                 condition="attribute_exists(pk)")

    def owner_check_op(self, user_id: str) -> dict[str, Any]:
        return {"ConditionCheck": {"TableName": self.table.name, "Key": profile_key(user_id),
                                   "ConditionExpression": "tier = :owner",
                                   "ExpressionAttributeValues": to_values({":owner": "owner"})}}

    def mark_refunded(self, order_id: str, refund_id: str) -> None:
        self.table.client.update_item(
            TableName=self.table.name, Key=order_key(order_id),
            UpdateExpression="SET payment.#s = :s, payment.refund_id = :r REMOVE gsi1pk, gsi1sk",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_values({":s": "refunded", ":r": refund_id}))

    def record_late_refund(self, order_id: str, payment_intent_id: str, refund_id: str) -> None:
        self.table.client.update_item(
            TableName=self.table.name, Key=order_key(order_id), UpdateExpression="SET late_payment_refund = :r",
            ExpressionAttributeValues=to_values({":r": {"payment_intent_id": payment_intent_id,
                                                        "refund_id": refund_id}}))

    def attach_payment(self, order_id: str, payment: dict[str, Any]) -> None:
        """Record the PaymentIntent of a pending order (once; a replay that raced here changes nothing)."""
        try:
            self.table.client.update_item(
                TableName=self.table.name, Key=order_key(order_id),
                UpdateExpression="SET payment = :p", ConditionExpression="attribute_not_exists(payment)",
                ExpressionAttributeValues=to_values({":p": payment}))
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
