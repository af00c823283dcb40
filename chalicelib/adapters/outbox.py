"""The outbox: events written in the transaction of the change, then published to the SQS FIFO queue.

Published right after commit; a scheduled relay publishes anything older than a few seconds that is
not marked sent yet and marks it. The request path does not mark (one write fewer per order): the
relay's re-publish of an already-sent event falls inside SQS FIFO's 5-minute deduplication window,
keyed on the event id, so the queue holds one message per event.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib import logs
from chalicelib.adapters.dynamo import Table, key, to_values

log = logs.get("outbox")
PENDING = "OUTBOX#PENDING"


class Outbox:
    def __init__(self, table: Table, sqs: Any, queue_name: str) -> None:
        self._table = table
        self._sqs = sqs
        self._queue_name = queue_name
        self._queue_url: Any = None

    def put_op(self, event: dict[str, Any]) -> dict[str, Any]:
        item = {"pk": f"OUTBOX#{event['event_id']}", "sk": "META", "event": event,
                "order_id": event["order"]["order_id"], "gsi1pk": PENDING,
                "gsi1sk": f"{event['occurred_at']}#{event['event_id']}"}
        return self._table.put(item, "attribute_not_exists(pk)")

    @property
    def queue_url(self) -> str:
        if self._queue_url is None:
            self._queue_url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._queue_url

    def publish(self, event: dict[str, Any]) -> bool:
        """Send one event; False (logged) if SQS is unavailable: the relay will send it later."""
        try:
            self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(event, ensure_ascii=False),
                                   MessageGroupId=event["order"]["order_id"],
                                   MessageDeduplicationId=event["event_id"])
            return True
        except Exception:  # any transport failure: the event is safe in the outbox
            log.warning("publish failed; the relay will retry", extra={"event_id": event["event_id"]},
                        exc_info=True)
            return False

    def relay(self, older_than_iso: str, now_iso: str, limit: int = 100) -> int:
        """Publish and mark every unsent event written before `older_than_iso`; returns how many were sent."""
        out = self._table.client.query(
            TableName=self._table.name, IndexName="gsi1", Limit=limit,
            KeyConditionExpression="gsi1pk = :p AND gsi1sk < :t",
            ExpressionAttributeValues=to_values({":p": PENDING, ":t": older_than_iso}))
        sent = 0
        for raw in out.get("Items", []):
            event = json.loads(json.dumps(_plain(raw["event"])))
            if not self.publish(event):
                break
            self._table.client.update_item(
                TableName=self._table.name, Key=key(f"OUTBOX#{event['event_id']}", "META"),
                UpdateExpression="REMOVE gsi1pk, gsi1sk SET sent_at = :now",
                ExpressionAttributeValues=to_values({":now": now_iso}))
            sent += 1
        return sent


def _plain(attr: dict[str, Any]) -> Any:
    from chalicelib.adapters.dynamo import from_item

    return from_item({"v": attr})["v"]
