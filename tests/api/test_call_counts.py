"""What an order costs in AWS calls, counted with botocore events (a cost a user pays in latency)."""

from __future__ import annotations

from collections import Counter

from tests.api.shop import add_product, give_points, order_body, place
from tests.api.test_lots import expiry_on  # noqa: F401 (a fixture)


def count_calls(services) -> Counter:
    calls: Counter = Counter()

    def seen(event_name: str, **_: object) -> None:
        calls[event_name.split(".")[-1]] += 1

    for client in (services.dynamodb, services.sqs):
        client.meta.events.register("before-call.*.*", seen)
    return calls


def test_a_points_only_order_is_one_batch_get_and_one_transaction_with_no_sqs_call(api, services):
    sku = add_product(services, price_fen=1000, stock=50, cash=False)
    give_points(services, "buyer", 1000)
    place(api, "buyer", order_body((sku, 1), points=100))  # warm: the profile is known, the queue URL cached
    calls = count_calls(services)
    r = place(api, "buyer", order_body((sku, 2), points=200))
    assert r.status == 201 and r.json["status"] == "paid"
    assert calls == Counter({"BatchGetItem": 1, "TransactWriteItems": 1})  # the event leaves via the stream


def test_a_points_plus_cash_order_adds_only_the_payment_intent_bookkeeping(api, services):
    sku = add_product(services, price_fen=10000, stock=50)
    give_points(services, "buyer", 1000)
    place(api, "buyer", order_body((sku, 1), points=100))
    calls = count_calls(services)
    r = place(api, "buyer", order_body((sku, 1), points=100))
    assert r.json["status"] == "pending_payment"
    # + one UpdateItem to attach the PaymentIntent to the order (the order event waits for the payment).
    assert calls == Counter({"BatchGetItem": 1, "TransactWriteItems": 1, "UpdateItem": 1})


def test_a_points_paid_event_registration_costs_what_an_order_costs(api, services, clock):
    clock.set("2026-12-01T02:00:00Z")
    event = api.merch(
        "POST",
        "/admin/events",
        {
            "title": "Launch day",
            "title_zh": "发布日",
            "description": "x",
            "city": "Shanghai",
            "venue": "Hall 1",
            "starts_at": "2026-12-20T11:00:00Z",
            "ends_at": "2026-12-20T14:00:00Z",
            "capacity": 100,
            "fee_fen": 1000,
        },
    ).json
    give_points(services, "fan", 1000)
    api.get("/me", user="fan")  # warm: the profile is known to this container
    calls = count_calls(services)
    r = api.post(
        f"/events/{event['event_id']}/registrations",
        {"points": 100},
        user="fan",
        headers={"Idempotency-Key": "call-count-1"},
    )
    assert r.status == 201 and r.json["status"] == "confirmed"
    assert calls == Counter({"BatchGetItem": 1, "TransactWriteItems": 1})


def test_a_check_in_reads_the_profile_and_writes_once_the_policy_costs_nothing_per_request(api, services):
    api.post("/me/checkins", user="early")  # warm: this container has read the policy's schedule (once a minute)
    api.get("/me", user="later")  # and knows this user (a first call creates the profile)
    calls = count_calls(services)
    r = api.post("/me/checkins", user="later")
    assert r.status == 201 and r.json["points_awarded"] == 2
    assert calls == Counter({"GetItem": 1, "TransactWriteItems": 1})


def refund_calls(api, services) -> tuple[Counter, Counter]:
    """(the calls of a points order, the calls of its refund) for a buyer with points."""
    sku = add_product(services, price_fen=1000, stock=50, cash=False)
    give_points(services, "buyer", 1000)
    place(api, "buyer", order_body((sku, 1), points=100))
    calls = count_calls(services)
    r = place(api, "buyer", order_body((sku, 2), points=200))
    assert r.status == 201 and r.json["status"] == "paid"
    order = Counter(calls)
    calls.clear()
    assert api.merch("POST", f"/admin/orders/{r.json['order_id']}/refund", {"reason": "damaged"}).status == 200
    return order, Counter(calls)


def test_a_refund_costs_one_read_more_with_expiry_on_and_an_order_nothing_more(api, services, clock, request):
    clock.set("2026-12-06T02:02:00.000Z")
    api.merch("GET", "/admin/policy")  # warm: the first policy read writes version 1 once
    order_off, refund_off = refund_calls(api, services)
    assert order_off == Counter({"BatchGetItem": 1, "TransactWriteItems": 1})
    request.getfixturevalue("expiry_on")  # a fresh shop is not needed: the same buyer now keeps lots
    give_points(services, "buyer", 1)  # the first issue under expiry opens the buyer's lots
    order_on, refund_on = refund_calls(api, services)
    assert order_on == order_off, "the lots move inside the profile's compare-and-swap"
    assert refund_on == refund_off + Counter({"GetItem": 1}), "the refund reads what its order drew"
    assert api.get("/me/points/lots", user="buyer").json["items"] == [
        {"lot": "2027-01", "points": 1_801, "expires_at": "2027-01-31T16:00:00.000Z"}
    ]
