"""After checkout: cancel, expiry, refunds, shipments, webhooks, and the outbox when SQS is down."""

from __future__ import annotations

import json
import time

import boto3
import jsonschema
import pytest
from botocore.config import Config

from chalicelib import workers
from chalicelib.adapters.payments import sign
from chalicelib.domain.errors import PaymentProviderError
from tests.api.shop import add_product, balance, drain_stream, give_points, order_body, place, queued_events, stock
from tools.event_schemas import DOCS
from tools.reconcile import reconcile
from tools.streams import outbox_poller


@pytest.fixture
def sku(services):
    return add_product(services, price_fen=19900, stock=10)


def paid_points_order(api, services, sku, user="buyer", qty=1):
    give_points(services, user, 1990 * qty)
    order = place(api, user, order_body((sku, qty), points=1990 * qty)).json
    assert order["status"] == "paid"
    return order


def test_cancelling_a_pending_order_releases_everything(api, services, sku):
    give_points(services, "buyer", 900)
    order = place(api, "buyer", order_body((sku, 3), points=900)).json
    r = api.post(f"/orders/{order['order_id']}/cancel", user="buyer")
    assert r.status == 200 and r.json["status"] == "cancelled"
    assert balance(api, "buyer") == {"available": 900, "held": 0} and stock(services, sku) == 10
    assert queued_events(services) == []  # partners never heard of it
    again = api.post(f"/orders/{order['order_id']}/cancel", user="buyer")
    assert (again.status, again.error_code) == (409, "not_cancellable")


def test_cancelling_a_paid_order_refunds_points_and_cash_and_tells_partners(api, services, sku):
    give_points(services, "buyer", 1000)
    order = place(api, "buyer", order_body((sku, 1), points=1000)).json
    api.post(f"/dev/payments/{order['payment']['payment_intent_id']}/succeed")
    r = api.post(f"/orders/{order['order_id']}/cancel", user="buyer")
    assert r.status == 200 and r.json["status"] == "cancelled"
    assert r.json["payment"]["status"] == "refunded"
    assert balance(api, "buyer") == {"available": 1000, "held": 0} and stock(services, sku) == 10
    assert [e["type"] for e in queued_events(services)] == ["order.paid", "order.cancelled"]


def test_shipped_orders_cannot_be_cancelled_but_can_be_refunded_without_stock_back(api, services, sku):
    order = paid_points_order(api, services, sku)
    assert (
        api.post(
            f"/partner/orders/{order['order_id']}/shipments",
            {"carrier": "SF", "tracking_number": "SF1234567"},
            user="shipper",
            groups=("merchandiser",),
        ).status
        == 403
    )
    shipped = api.post(
        f"/partner/orders/{order['order_id']}/shipments",
        {"carrier": "SF Express", "tracking_number": "SF1234567"},
        partner="warehouse",
    )
    assert shipped.status == 200 and shipped.json["status"] == "shipped"
    assert [s["tracking_number"] for s in shipped.json["shipments"]] == ["SF1234567"]
    assert api.post(f"/orders/{order['order_id']}/cancel", user="buyer").error_code == "not_cancellable"
    r = api.merch("POST", f"/admin/orders/{order['order_id']}/refund", {"reason": "arrived broken"})
    assert r.status == 200 and r.json["status"] == "refunded"
    assert balance(api, "buyer") == {"available": 1990, "held": 0} and stock(services, sku) == 9
    events = queued_events(services)
    assert [e["type"] for e in events] == ["order.paid", "order.shipped", "order.refunded"]
    schema = json.loads((DOCS / "order-event.v2.schema.json").read_text(encoding="utf-8"))
    for event in events:
        jsonschema.validate(event, schema)  # what partners receive is what docs/events promises
    audit = api.merch("GET", "/admin/audit?limit=1").json["items"][0]
    assert (audit["action"], audit["after"]["reason"]) == ("order.refunded", "arrived broken")


def test_illegal_transitions_are_409(api, services, sku):
    give_points(services, "buyer", 100)
    pending = place(api, "buyer", order_body((sku, 1), points=100)).json
    r = api.post(
        f"/partner/orders/{pending['order_id']}/shipments",
        {"carrier": "SF", "tracking_number": "SF0001"},
        partner="warehouse",
    )
    assert (r.status, r.error_code) == (409, "invalid_status_transition")
    assert api.merch("POST", f"/admin/orders/{pending['order_id']}/refund", {"reason": "x"}).status == 409
    assert api.merch("POST", "/admin/orders/o-unknown/refund", {"reason": "x"}).status == 404


def test_an_overdue_pending_order_expires_and_releases_its_holds(api, services, clock, sku):
    give_points(services, "buyer", 500)
    clock.set("2026-11-23T10:00:00Z")
    order = place(api, "buyer", order_body((sku, 2), points=500)).json
    assert order["expires_at"] == "2026-11-23T10:15:00.000Z"
    clock.set("2026-11-23T10:14:59Z")
    assert workers.expire_orders() == 0
    clock.set("2026-11-23T10:15:01Z")
    assert workers.expire_orders() == 1 and workers.expire_orders() == 0
    assert api.get(f"/orders/{order['order_id']}", user="buyer").json["status"] == "expired"
    assert balance(api, "buyer") == {"available": 500, "held": 0} and stock(services, sku) == 10
    # Paying after expiry: the money goes back automatically.
    api.post(f"/dev/payments/{order['payment']['payment_intent_id']}/succeed")
    stored = services.order_repo.get(order["order_id"])
    assert stored.status == "expired" and stored.late_payment_refund["refund_id"].startswith("re_local_")


def test_webhooks_with_a_bad_or_stale_signature_change_nothing(api, services, sku):
    give_points(services, "buyer", 100)
    order = place(api, "buyer", order_body((sku, 1), points=100)).json
    event = {
        "id": "evt_1",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": order["payment"]["payment_intent_id"],
                "amount": order["cash_due_fen"],
                "currency": "cny",
                "metadata": {"order_id": order["order_id"]},
            }
        },
    }
    payload = json.dumps(event).encode()
    secret = services.settings.webhook_secret
    for header in (
        None,
        "garbage",
        sign(payload, "whsec_wrong"),
        sign(payload, secret, int(time.time()) - 301),
        sign(payload + b" ", secret),
    ):
        headers = {"Stripe-Signature": header} if header else {}
        r = api.call("POST", "/webhooks/stripe", raw=payload, headers=headers)
        assert (r.status, r.error_code) == (400, "invalid_signature")
    assert services.order_repo.get(order["order_id"]).status == "pending_payment"
    r = api.call("POST", "/webhooks/stripe", raw=payload, headers={"Stripe-Signature": sign(payload, secret)})
    assert r.json == {"received": True, "handled": True}
    assert services.order_repo.get(order["order_id"]).status == "paid"
    unknown = json.dumps({"id": "evt_2", "type": "charge.dispute.created", "data": {"object": {}}}).encode()
    r = api.call("POST", "/webhooks/stripe", raw=unknown, headers={"Stripe-Signature": sign(unknown, secret)})
    assert r.status == 200 and r.json == {"received": True, "handled": False}


def test_dev_payment_endpoints_are_404_when_stripe_is_configured(api, services, monkeypatch):
    assert api.post("/dev/payments/pi_local_nothing/succeed").status == 404
    monkeypatch.setattr(services.settings, "stripe_api_key", "sk_test_configured")
    assert api.post("/dev/payments/pi_local_anything/succeed").status == 404


def use_sqs(services, client) -> None:
    """Rewire the container's SQS client (and what was built on it)."""
    services.__dict__["sqs"] = client
    for built in ("outbox", "checkout", "orders", "payment_events"):
        services.__dict__.pop(built, None)


def test_the_request_path_never_calls_sqs_and_sqs_down_loses_no_event(api, services):
    """SQS stopped during 20 orders: every order commits, the stream consumer's batches fail and are delivered
    again, and once SQS is back each event reaches the queue exactly once, in order per order."""
    real_sqs = services.sqs
    dead = boto3.client(
        "sqs",
        endpoint_url="http://127.0.0.1:9",
        region_name="cn-north-1",
        config=Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1}),
    )
    use_sqs(services, dead)
    sku = add_product(services, price_fen=19900, stock=100)
    give_points(services, "buyer", 1990 * 20)
    orders = [place(api, "buyer", order_body((sku, 1), points=1990)).json for _ in range(10)]
    drain_stream(services)  # the consumer runs while SQS is down: its batch fails at the first event
    url = real_sqs.get_queue_url(QueueName=services.settings.partner_queue("warehouse"))["QueueUrl"]
    assert "Messages" not in real_sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    orders += [place(api, "buyer", order_body((sku, 1), points=1990)).json for _ in range(10)]
    assert {o["status"] for o in orders} == {"paid"}, "the request path does not need SQS"
    use_sqs(services, real_sqs)
    events = queued_events(services)
    assert sorted(e["order"]["order_id"] for e in events) == sorted(o["order_id"] for o in orders)
    assert len({e["event_id"] for e in events}) == 20 and queued_events(services) == []


def test_a_stream_record_delivered_twice_reaches_the_queue_once(api, services, sku):
    order = paid_points_order(api, services, sku)
    drain_stream(services)
    assert outbox_poller(services).poll() >= 1, "a second consumer handles the same records again"
    events = queued_events(services)
    assert [e["order"]["order_id"] for e in events] == [order["order_id"]], "SQS FIFO deduplicates on the event id"


def test_a_malformed_outbox_item_is_parked_for_repair_without_blocking_the_events_after_it(api, services, sku):
    services.table.client.put_item(
        TableName=services.table.name,
        Item={"pk": {"S": "OUTBOX#evt-broken"}, "sk": {"S": "META"}, "event": {"M": {"type": {"S": "order.paid"}}}},
    )
    order = paid_points_order(api, services, sku)
    assert [e["order"]["order_id"] for e in queued_events(services)] == [order["order_id"]]
    url = services.sqs.get_queue_url(QueueName=services.settings.outbox_failure_queue)["QueueUrl"]
    parked = services.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(parked) == 1 and json.loads(parked[0]["Body"])["reason"] == "not a valid event"


def test_records_that_are_not_new_outbox_items_are_skipped():
    from chalicelib.adapters.outbox import Outbox

    assert Outbox.event_of({"eventName": "MODIFY", "dynamodb": {"NewImage": {"pk": {"S": "OUTBOX#e"}}}}) is None
    assert Outbox.event_of({"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "ORDER#o"}}}}) is None


def test_ledgers_reconcile_after_a_full_order_lifecycle(api, services, sku):
    order = paid_points_order(api, services, sku, qty=2)
    api.post(f"/orders/{order['order_id']}/cancel", user="buyer")
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_merchandisers_list_orders_by_status_and_page_through_them(api, services, sku):
    give_points(services, "buyer", 10_000)
    paid = [place(api, "buyer", order_body((sku, 1), points=1990)).json["order_id"] for _ in range(3)]
    pending = place(api, "buyer", order_body((sku, 1), points=0)).json["order_id"]
    listed = api.merch("GET", "/admin/orders?status=paid&limit=2")
    assert listed.status == 200 and len(listed.json["items"]) == 2 and listed.json["next_cursor"]
    rest = api.merch("GET", f"/admin/orders?status=paid&limit=2&cursor={listed.json['next_cursor']}").json
    assert {o["order_id"] for o in listed.json["items"] + rest["items"]} == set(paid) and rest["next_cursor"] is None
    assert [o["order_id"] for o in api.merch("GET", "/admin/orders?status=pending_payment").json["items"]] == [pending]
    assert len(api.merch("GET", "/admin/orders").json["items"]) == 4
    assert api.merch("GET", "/admin/orders?status=lost").status == 400
    assert api.get("/admin/orders", user="buyer").status == 403


def test_a_refund_the_provider_refused_is_retried_by_the_schedule(api, services, sku, clock):
    give_points(services, "buyer", 1000)
    order = place(api, "buyer", order_body((sku, 1), points=1000)).json
    api.post(f"/dev/payments/{order['payment']['payment_intent_id']}/succeed")
    gateway = services.payment_gateway
    calls = []

    def down(*args):
        calls.append(args)
        raise PaymentProviderError("the provider is down")

    real_refund, gateway.refund = gateway.refund, down
    clock.set("2026-11-23T10:00:00Z")
    r = api.post(f"/orders/{order['order_id']}/cancel", user="buyer")
    assert r.status == 200 and r.json["status"] == "cancelled" and r.json["payment"]["status"] == "refund_pending"
    assert balance(api, "buyer") == {"available": 1000, "held": 0}  # points came back with the cancel
    gateway.refund = real_refund
    clock.set("2026-11-23T10:00:30Z")
    assert workers.retry_refunds() == 0  # not before a minute has passed
    clock.set("2026-11-23T10:01:30Z")
    assert workers.retry_refunds() == 1 and workers.retry_refunds() == 0
    assert api.get(f"/orders/{order['order_id']}", user="buyer").json["payment"]["status"] == "refunded"
    assert len(calls) == 1


@pytest.mark.parametrize(
    "event",
    [
        {"type": "payment_intent.succeeded"},
        {"type": "payment_intent.succeeded", "data": "x"},
        {"type": "payment_intent.succeeded", "data": {"object": {"id": 5, "metadata": {"order_id": "o-1"}}}},
        {"type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1", "metadata": "o-1"}}},
        {"type": ["payment_intent.succeeded"], "data": {"object": {"id": "pi_1"}}},
    ],
)
def test_signed_but_malformed_events_are_ignored_not_crashed_on(api, services, event):
    payload = json.dumps(event).encode()
    r = api.call(
        "POST",
        "/webhooks/stripe",
        raw=payload,
        headers={"Stripe-Signature": sign(payload, services.settings.webhook_secret)},
    )
    assert r.status == 200 and r.json == {"received": True, "handled": False}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id": "evt_n", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_x", "amount": NaN}}}',
        b'{"id": "evt_i", "type": "charge.dispute.created", "data": {"object": {"amount": Infinity}}}',
        b'{"id": "evt_d", "type": "charge.dispute.created", "type": "payment_intent.succeeded", "data": {}}',
    ],
)
def test_a_signed_webhook_body_that_is_not_strict_json_is_400(api, services, raw):
    """Python's json reads NaN and Infinity and keeps the last of repeated names; Stripe sends neither, so a body
    with them is not Stripe's, signed or not."""
    r = api.call(
        "POST", "/webhooks/stripe", raw=raw, headers={"Stripe-Signature": sign(raw, services.settings.webhook_secret)}
    )
    assert (r.status, r.error_code) == (400, "invalid_signature"), r.json
