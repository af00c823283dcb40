"""The outbox against DynamoDB Local and a local SQS: events exist exactly when their change committed, and the
relay delivers each unsent one."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.adapters.dynamo import LostRace, key
from chalicelib.adapters.outbox import Outbox
from chalicelib.domain.events import order_event
from tests.helpers import uid
from tests.integration.builders import order


def _event(at: str = "2024-05-01T08:00:00.000Z"):
    return order_event(uid("evt"), "order.paid", at, order(status="paid"))


def _write(services, event) -> None:
    tx = services.table.transaction()
    services.outbox.add(tx, event)
    tx.commit()


def _received(services) -> list[dict[str, Any]]:
    out = services.sqs.receive_message(QueueUrl=services.outbox.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in out.get("Messages", [])]


def test_the_relay_sends_each_event_older_than_the_bound_once(services):
    old, new = _event("2024-05-01T08:00:00.000Z"), _event("2024-05-01T08:00:30.000Z")
    _write(services, old)
    _write(services, new)
    assert services.outbox.relay("2024-05-01T08:00:10.000Z", "2024-05-01T08:00:20.000Z") == 1
    assert services.outbox.relay("2024-05-01T08:00:10.000Z", "2024-05-01T08:00:20.000Z") == 0
    [body] = _received(services)
    assert (body["event_id"], body["type"], body["order"]["order_id"]) == (old.event_id, "order.paid",
                                                                             old.order.order_id)
    assert services.table.get(key(f"OUTBOX#{old.event_id}", "META"))["sent_at"] == "2024-05-01T08:00:20.000Z"
    assert services.outbox.relay("2024-05-01T08:01:00.000Z", "2024-05-01T08:01:00.000Z") == 1


def test_an_event_of_a_change_that_did_not_commit_is_never_sent(services):
    taken = uid("taken")
    services.table.put_if_absent({"pk": taken, "sk": "META"})
    event = _event()
    tx = services.table.transaction()
    services.outbox.add(tx, event)
    tx.create({"pk": taken, "sk": "META"})
    with pytest.raises(LostRace):
        tx.commit()
    assert services.outbox.relay("2030-01-01T00:00:00.000Z", "2030-01-01T00:00:00.000Z") == 0
    assert services.table.get(key(f"OUTBOX#{event.event_id}", "META")) is None


def test_no_event_adds_no_write(services):
    tx = services.table.transaction()
    services.outbox.add(tx, None)
    assert len(tx) == 0


class DownSqs:
    def get_queue_url(self, **_: Any) -> Any:
        raise ConnectionError("SQS is down")


def test_an_event_the_queue_could_not_take_stays_for_the_next_relay(services):
    event = _event()
    _write(services, event)
    assert Outbox(services.table, DownSqs(), "q").relay("2030-01-01T00:00:00.000Z", "2030-01-01T00:00:00.000Z") == 0
    assert "sent_at" not in services.table.get(key(f"OUTBOX#{event.event_id}", "META"))
    assert services.outbox.relay("2030-01-01T00:00:00.000Z", "2030-01-01T00:00:00.000Z") == 1
    assert [b["event_id"] for b in _received(services)] == [event.event_id]
