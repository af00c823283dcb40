"""The outbox against DynamoDB Local, its stream and a local SQS: an event exists exactly when its change
committed, and the stream consumer sends each one, in order, past a queue that is down."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import workers
from chalicelib.adapters.dynamo import LostRace, key
from chalicelib.domain.events import order_event
from tests.api.shop import drain_stream
from tests.helpers import uid
from tests.integration.builders import order


def _event(at: str = "2024-05-01T08:00:00.000Z"):
    return order_event(uid("evt"), "order.paid", at, order(status="paid"), "warehouse")


def _write(services, event) -> None:
    tx = services.table.transaction()
    services.outbox.add(tx, [event])
    tx.commit()


def _received(services) -> list[dict[str, Any]]:
    url = services.sqs.get_queue_url(QueueName=services.settings.partner_queue("warehouse"))["QueueUrl"]
    out = services.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in out.get("Messages", [])]


@pytest.mark.streams
def test_the_stream_consumer_sends_each_committed_event_once_in_order(services):
    first, second = _event("2024-05-01T08:00:00.000Z"), _event("2024-05-01T08:00:30.000Z")
    _write(services, first)
    _write(services, second)
    drain_stream(services)
    drain_stream(services)  # nothing new: nothing sent again
    assert [b["event_id"] for b in _received(services)] == [first.event_id, second.event_id]


@pytest.mark.streams
def test_an_event_of_a_change_that_did_not_commit_is_never_sent(services):
    taken = uid("taken")
    services.table.put_if_absent({"pk": taken, "sk": "META"})
    event = _event()
    tx = services.table.transaction()
    services.outbox.add(tx, [event])
    tx.create({"pk": taken, "sk": "META"})
    with pytest.raises(LostRace):
        tx.commit()
    drain_stream(services)
    assert _received(services) == []
    assert services.table.get(key(f"OUTBOX#{event.event_id}", "META")) is None


def test_no_event_adds_no_write(services):
    tx = services.table.transaction()
    services.outbox.add(tx, [])
    assert len(tx) == 0


@pytest.mark.streams
def test_a_batch_reports_the_first_record_the_queue_did_not_take_and_nothing_after_it(services, monkeypatch):
    events = [_event() for _ in range(3)]
    for event in events:
        _write(services, event)
    sent: list[str] = []
    refused: list[str] = []

    def flaky(event: dict[str, Any]) -> bool:
        if event["event_id"] == events[1].event_id and not refused:
            refused.append(event["event_id"])
            return False  # SQS refuses the second event once
        sent.append(event["event_id"])
        return True

    monkeypatch.setattr(services.outbox, "publish", flaky)
    drain_stream(services)
    assert sent == [events[0].event_id], "stopped at the failure: the events of one order keep their order"
    drain_stream(services)
    assert sent == [e.event_id for e in events]


def test_the_consumer_answers_lambdas_partial_batch_response(services):
    event = _event()
    record = {
        "eventName": "INSERT",
        "dynamodb": {
            "SequenceNumber": "100",
            "NewImage": {
                "pk": {"S": f"OUTBOX#{event.event_id}"},
                "sk": {"S": "META"},
                "event": {"M": {k: {"S": v} for k, v in {"event_id": "x"}.items()}},
            },
        },
    }
    other = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "99", "NewImage": {"pk": {"S": "ORDER#o"}}}}
    assert workers.publish_outbox([other]) == {"batchItemFailures": []}
    services.outbox.park = lambda record, reason: False  # the failures queue is down too: retry, never drop
    assert workers.publish_outbox([other, record]) == {"batchItemFailures": [{"itemIdentifier": "100"}]}


@pytest.mark.streams
def test_an_event_for_a_partner_without_a_queue_is_parked_and_the_next_one_still_goes_out(services):
    stray = order_event(uid("evt"), "order.paid", "2024-05-01T08:00:00.000Z", order(status="paid"), "nobody")
    good = _event()
    _write(services, stray)
    _write(services, good)
    drain_stream(services)
    assert [b["event_id"] for b in _received(services)] == [good.event_id]
    url = services.sqs.get_queue_url(QueueName=services.settings.outbox_failure_queue)["QueueUrl"]
    [parked] = services.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(parked["Body"])["reason"] == "partner nobody has no queue"
