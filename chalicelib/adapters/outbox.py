"""The outbox: events written in the transaction of the change that causes them, published from the table's stream.

The request path only writes DynamoDB: one outbox item per partner told of the change. The table's DynamoDB Stream
delivers each new outbox item to `chalicelib/workers/__init__.py:publish_outbox` (a Lambda on AWS; a poller of
DynamoDB Local's stream in `make run` and the tests), which sends it to that partner's SQS FIFO queue with the event
id as deduplication id. A record that cannot be sent is reported as a partial batch failure and retried from there,
in order; one that is not a valid event, or names a partner with no queue, is parked on the outbox-failures queue
for repair instead of blocking the stream.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Optional

from botocore.exceptions import ClientError

from chalicelib import logs
from chalicelib.adapters.dynamo import Transaction, from_item
from chalicelib.domain.events import OrderEvent
from chalicelib.domain.text import STORED

log = logs.get("outbox")
PREFIX = "OUTBOX#"
NOTICE = "NOTICE#"  # a notice to a user, written once by a scheduled job and sent from the stream
_NO_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


class NoQueue(Exception):
    """An event for a partner that has no queue: a routing mistake, parked for repair rather than retried."""


class Outbox:
    def __init__(
        self,
        sqs: Callable[[], Any],
        partner_queue: Callable[[str], str],
        failure_queue_name: str,
        notices_queue_name: str = "",
    ) -> None:
        self._client = sqs  # the SQS client when first needed: the request path only writes outbox items (a client
        # built on an order's cold start cost ~45 ms for nothing)
        self._partner_queue = partner_queue  # partner id -> its queue's name
        self._failure_queue = failure_queue_name
        self._notices_queue = notices_queue_name  # users' notices (points.expiring): docs/events/points.expiring.md
        self._queue_urls: dict[str, str] = {}

    def add(self, tx: Transaction, events: Iterable[OrderEvent]) -> None:
        """Write `events` in the transaction of the change that causes them."""
        for event in events:
            tx.create(
                {
                    "pk": f"{PREFIX}{event.event_id}",
                    "sk": "META",
                    "event": event.model_dump(mode="json"),
                    "order_id": event.order.order_id,
                    "partner_id": event.partner_id,
                }
            )

    def _url(self, name: str) -> str:
        if name not in self._queue_urls:
            self._queue_urls[name] = self._client().get_queue_url(QueueName=name)["QueueUrl"]
        return self._queue_urls[name]

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
        """Send one event to its partner's queue; False (logged) if SQS is unavailable: the stream delivers the
        record again. NoQueue if the partner has no queue (retrying cannot help)."""
        try:
            self._client().send_message(
                QueueUrl=self._url(self._partner_queue(event["partner_id"])),
                MessageBody=json.dumps(event, ensure_ascii=False),
                MessageGroupId=event["order"]["order_id"],
                MessageDeduplicationId=event["event_id"],
            )
            return True
        except Exception as exc:  # any transport failure: the event is safe in the table and its stream
            if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _NO_QUEUE:
                raise NoQueue(event["partner_id"]) from None
            log.warning(
                "publish failed; the stream will deliver it again", extra={"event_id": event["event_id"]}, exc_info=True
            )
            return False

    @staticmethod
    def notice_of(record: dict[str, Any]) -> Optional[dict[str, Any]]:
        """The notice a stream record carries (a new NOTICE# item), None for any other record."""
        image = (record.get("dynamodb") or {}).get("NewImage") or {}
        if record.get("eventName") != "INSERT" or not str((image.get("pk") or {}).get("S", "")).startswith(NOTICE):
            return None
        notice = from_item(image).get("notice")
        if not isinstance(notice, dict) or "event_id" not in notice:
            raise ValueError("a notice item without its notice")
        return notice

    def notify(self, notice: dict[str, Any]) -> bool:
        """Send one notice to the notifications queue (standard: the event id lets a reader drop a repeat); False
        (logged) if SQS is unavailable: the stream delivers it again."""
        try:
            body = json.dumps(notice, ensure_ascii=False)
            self._client().send_message(QueueUrl=self._url(self._notices_queue), MessageBody=body)
            return True
        except Exception as exc:  # as publish: a missing queue is parked for repair, anything else comes again
            if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _NO_QUEUE:
                raise NoQueue("notifications") from None
            log.warning("a notice could not be sent; the stream delivers it again", exc_info=True)
            return False

    def park(self, record: dict[str, Any], reason: str) -> bool:
        """Put a record that can never be published on the failures queue for repair (docs/features/partners.md)."""
        try:
            body = json.dumps({"reason": reason, "record": record}, default=str, ensure_ascii=False)
            self._client().send_message(QueueUrl=self._url(self._failure_queue), MessageBody=body)
            return True
        except Exception:
            log.warning("parking a failed outbox record failed", exc_info=True)
            return False
