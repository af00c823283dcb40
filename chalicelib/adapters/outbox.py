"""The outbox: events written in the transaction of the change, then published to the SQS FIFO queue.

Published right after commit; a scheduled relay publishes anything older than a few seconds that is
not marked sent yet and marks it. The request path does not mark (one write fewer per order): the
relay's re-publish of an already-sent event falls inside SQS FIFO's 5-minute deduplication window,
keyed on the event id, so the queue holds one message per event.
"""
from __future__ import annotations

import json
from typing import Any, Optional

from chalicelib import logs
from chalicelib.adapters.dynamo import Table, Transaction, key, to_values
from chalicelib.domain.events import OrderEvent

log = logs.get("outbox")
PENDING = "OUTBOX#PENDING"


class Outbox:
    def __init__(self, table: Table, sqs: Any, queue_name: str) -> None:
        self._table = table
        self._sqs = sqs
        self._queue_name = queue_name
        self._queue_url: Any = None

    def add(self, tx: Transaction, event: Optional[OrderEvent]) -> None:
        """Write `event` in the transaction of the change that causes it (nothing for no event)."""
        if event is None:
            return
        tx.create({"pk": f"OUTBOX#{event.event_id}", "sk": "META", "event": event.model_dump(mode="json"),
                   "order_id": event.order.order_id, "gsi1pk": PENDING,
                   "gsi1sk": f"{event.occurred_at}#{event.event_id}"})

    @property
    def queue_url(self) -> str:
        if self._queue_url is None:
            self._queue_url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._queue_url

    def publish(self, event: OrderEvent | dict[str, Any]) -> bool:
        """Send one event; False (logged) if SQS is unavailable: the relay will send it later."""
        if isinstance(event, OrderEvent):
            event = event.model_dump(mode="json")
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
        sent = 0
        for item in self._table.due(PENDING, older_than_iso, limit):
            event = item["event"]
            if not self.publish(event):
                break
            self._table.client.update_item(
                TableName=self._table.name, Key=key(f"OUTBOX#{event['event_id']}", "META"),
                UpdateExpression="REMOVE gsi1pk, gsi1sk SET sent_at = :now",
                ExpressionAttributeValues=to_values({":now": now_iso}))
            sent += 1
        return sent

