"""The outbox: events written in the transaction of the change that causes them, published from the table's stream.

The request path only writes DynamoDB. The table's DynamoDB Stream delivers each new outbox item to
`chalicelib/workers/__init__.py:publish_outbox` (a Lambda on AWS; a poller of DynamoDB Local's stream in `make run`
and the tests), which sends it to the SQS FIFO queue with the event id as deduplication id. A record that cannot
be sent is reported as a partial batch failure and retried from there, in order; one that is not a valid event is
parked on the outbox-failures queue for repair instead of blocking the stream.
"""
from __future__ import annotations

import json
from typing import Any, Optional

from chalicelib import logs
from chalicelib.adapters.dynamo import Transaction, from_item
from chalicelib.domain.events import OrderEvent
from chalicelib.domain.text import STORED

log = logs.get("outbox")
PREFIX = "OUTBOX#"


class Outbox:
    def __init__(self, sqs: Any, queue_name: str, failure_queue_name: str) -> None:
        self._sqs = sqs
        self._queue_names = {"events": queue_name, "failures": failure_queue_name}
        self._queue_urls: dict[str, str] = {}

    def add(self, tx: Transaction, event: Optional[OrderEvent]) -> None:
        """Write `event` in the transaction of the change that causes it (nothing for no event)."""
        if event is None:
            return
        tx.create({"pk": f"{PREFIX}{event.event_id}", "sk": "META", "event": event.model_dump(mode="json"),
                   "order_id": event.order.order_id})

    def _url(self, which: str) -> str:
        if which not in self._queue_urls:
            self._queue_urls[which] = self._sqs.get_queue_url(QueueName=self._queue_names[which])["QueueUrl"]
        return self._queue_urls[which]

    @staticmethod
    def event_of(record: dict[str, Any]) -> Optional[dict[str, Any]]:
        """The event a stream record carries: None for any record that is not a new outbox item; ValueError for an
        outbox item that does not hold a valid event."""
        image = (record.get("dynamodb") or {}).get("NewImage") or {}
        if record.get("eventName") != "INSERT" or not str((image.get("pk") or {}).get("S", "")).startswith(PREFIX):
            return None
        event = from_item(image).get("event")
        return OrderEvent.model_validate(event, context=STORED).model_dump(mode="json")

    def publish(self, event: dict[str, Any]) -> bool:
        """Send one event; False (logged) if SQS is unavailable: the stream delivers the record again."""
        try:
            self._sqs.send_message(QueueUrl=self._url("events"), MessageBody=json.dumps(event, ensure_ascii=False),
                                   MessageGroupId=event["order"]["order_id"], MessageDeduplicationId=event["event_id"])
            return True
        except Exception:  # any transport failure: the event is safe in the table and its stream
            log.warning("publish failed; the stream will deliver it again", extra={"event_id": event["event_id"]},
                        exc_info=True)
            return False

    def park(self, record: dict[str, Any], reason: str) -> bool:
        """Put a record that can never be published on the failures queue for repair (README: outbox repair)."""
        try:
            body = json.dumps({"reason": reason, "record": record}, default=str, ensure_ascii=False)
            self._sqs.send_message(QueueUrl=self._url("failures"), MessageBody=body)
            return True
        except Exception:
            log.warning("parking a failed outbox record failed", exc_info=True)
            return False
