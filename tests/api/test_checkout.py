"""Checkout through the API: splits, holds, payment, idempotency, owner-only lines, events."""

from __future__ import annotations

import pytest

from tests.api.shop import add_product, balance, give_points, make_owner, order_body, place, queued_events, stock


@pytest.fixture
def shop(services):
    return {
        "mixed": add_product(services, price_fen=19900, stock=10),
        "points_only": add_product(services, price_fen=5000, stock=5, cash=False),
        "cash_only": add_product(services, price_fen=29900, stock=5, points=False),
        "owner_only": add_product(services, price_fen=29900, stock=5, category="car-life", owner_only=True),
        "hotel": add_product(services, price_fen=168000, stock=2, category="hotel", sku_attrs={"date": "2099-12-18"}),
    }


def test_quote_prices_from_the_store_and_changes_nothing(api, services, shop):
    give_points(services, "buyer", 3000)
    body = order_body((shop["mixed"], 2), (shop["points_only"], 1), (shop["cash_only"], 1), points=1000)
    r = api.post("/orders/quote", body, user="buyer")
    assert r.status == 200, r.json
    assert (r.json["subtotal_fen"], r.json["min_points"], r.json["max_points"]) == (39800 + 5000 + 29900, 500, 4480)
    assert (r.json["points_applied"], r.json["cash_due_fen"]) == (1000, 74700 - 10000)
    assert [line["line_total_fen"] for line in r.json["lines"]] == [39800, 5000, 29900]
    assert stock(services, shop["mixed"]) == 10 and balance(api, "buyer") == {"available": 3000, "held": 0}


def test_pure_points_order_is_paid_at_once_and_emits_order_paid(api, services, shop):
    give_points(services, "buyer", 5000)
    r = place(api, "buyer", order_body((shop["mixed"], 1), (shop["points_only"], 2), points=2990))
    assert r.status == 201, r.json
    assert (r.json["status"], r.json["cash_due_fen"], r.json["payment"], r.json["expires_at"]) == (
        "paid",
        0,
        None,
        None,
    )
    assert balance(api, "buyer") == {"available": 2010, "held": 0}
    assert (stock(services, shop["mixed"]), stock(services, shop["points_only"])) == (9, 3)
    ledger = api.get("/me/points/ledger", user="buyer").json["items"]
    assert (ledger[0]["kind"], ledger[0]["delta"], ledger[0]["ref"]) == ("spend", -2990, f"order:{r.json['order_id']}")
    events = queued_events(services)
    assert [(e["type"], e["order"]["order_id"], e["schema_version"]) for e in events] == [
        ("order.paid", r.json["order_id"], 2)
    ]
    assert events[0]["order"]["shipping_address"]["city"] == "Shanghai"


def test_points_plus_cash_holds_until_the_payment_succeeds(api, services, shop):
    give_points(services, "buyer", 1000)
    r = place(api, "buyer", order_body((shop["mixed"], 1), points=1000))
    assert r.status == 201 and r.json["status"] == "pending_payment" and r.json["cash_due_fen"] == 9900
    payment = r.json["payment"]
    assert payment["provider"] == "local" and payment["payment_intent_id"].startswith("pi_local_")
    assert r.json["expires_at"] > r.json["created_at"]
    assert balance(api, "buyer") == {"available": 0, "held": 1000} and stock(services, shop["mixed"]) == 9
    assert queued_events(services) == []
    ok = api.post(f"/dev/payments/{payment['payment_intent_id']}/succeed")
    assert ok.status == 200 and ok.json == {"received": True, "handled": True}
    order = api.get(f"/orders/{r.json['order_id']}", user="buyer").json
    assert order["status"] == "paid" and order["payment"]["status"] == "succeeded"
    assert balance(api, "buyer") == {"available": 0, "held": 0}
    assert [e["type"] for e in queued_events(services)] == ["order.paid"]
    api.post(f"/dev/payments/{payment['payment_intent_id']}/succeed")  # a duplicate changes nothing
    api.post(f"/dev/payments/{payment['payment_intent_id']}/fail")  # nor does a late failure
    assert api.get(f"/orders/{r.json['order_id']}", user="buyer").json["status"] == "paid"
    assert balance(api, "buyer") == {"available": 0, "held": 0} and queued_events(services) == []


def test_a_payment_cancelled_at_the_provider_releases_stock_and_points(api, services, shop):
    give_points(services, "buyer", 500)
    r = place(api, "buyer", order_body((shop["mixed"], 2), points=500))
    api.post(f"/dev/payments/{r.json['payment']['payment_intent_id']}/fail")  # a declined card: try another
    assert api.get(f"/orders/{r.json['order_id']}", user="buyer").json["status"] == "pending_payment"
    api.post(f"/dev/payments/{r.json['payment']['payment_intent_id']}/cancel")
    assert api.get(f"/orders/{r.json['order_id']}", user="buyer").json["status"] == "payment_failed"
    assert balance(api, "buyer") == {"available": 500, "held": 0} and stock(services, shop["mixed"]) == 10
    kinds = [e["kind"] for e in api.get("/me/points/ledger", user="buyer").json["items"]]
    assert kinds[:2] == ["release", "hold"]


@pytest.mark.parametrize(
    "points, code, status",
    [
        (100, "invalid_points_split", 422),  # the points-only line needs 500
        (6000, "invalid_points_split", 422),  # more than the lines that accept points are worth
    ],
)
def test_splits_outside_the_allowed_range_are_422(api, services, shop, points, code, status):
    give_points(services, "buyer", 10_000)
    r = place(api, "buyer", order_body((shop["points_only"], 1), (shop["cash_only"], 1), points=points))
    assert (r.status, r.error_code) == (status, code)
    assert (r.json["error"]["details"]["min_points"], r.json["error"]["details"]["max_points"]) == (500, 500)


def test_cash_below_the_minimum_names_the_nearest_valid_points(api, services, shop):
    give_points(services, "buyer", 10_000)
    r = place(api, "buyer", order_body((shop["mixed"], 1), points=1980))  # 100 fen of cash left
    assert (r.status, r.error_code) == (422, "cash_below_minimum")
    assert r.json["error"]["details"]["nearest_valid_points"] == [1950, 1990]


def test_spending_more_points_than_available_is_409(api, services, shop):
    give_points(services, "buyer", 100)
    r = place(api, "buyer", order_body((shop["mixed"], 1), points=1990))
    assert (r.status, r.error_code) == (409, "insufficient_points")
    assert r.json["error"]["details"]["available"] == 100 and stock(services, shop["mixed"]) == 10


def test_owner_only_lines_need_a_verified_owner(api, services, shop):
    r = place(api, "fan", order_body((shop["owner_only"], 1)))
    assert (r.status, r.error_code) == (403, "owner_only")
    make_owner(services, "owner")
    r = place(api, "owner", order_body((shop["owner_only"], 1)))
    assert r.status == 201 and r.json["status"] == "pending_payment"


def test_idempotency_key_replays_the_first_order_and_refuses_another_body(api, services, shop):
    body = order_body((shop["mixed"], 1))
    assert api.post("/orders", body, user="buyer").status == 400
    assert api.post("/orders", body, user="buyer", headers={"Idempotency-Key": "short"}).status == 400
    first = place(api, "buyer", body, key="key-0000001")
    again = place(api, "buyer", body, key="key-0000001")
    assert again.status == 201 and again.json == first.json and stock(services, shop["mixed"]) == 9
    other = place(api, "buyer", order_body((shop["mixed"], 2)), key="key-0000001")
    assert (other.status, other.error_code) == (422, "idempotency_key_reused")
    assert place(api, "someone-else", body, key="key-0000001").json["order_id"] != first.json["order_id"]


def test_catalog_errors_at_checkout(api, services, shop):
    assert place(api, "buyer", order_body(("NO-SUCH-SKU", 1))).error_code == "not_found"
    r = place(api, "buyer", order_body((shop["cash_only"], 6)))
    assert (r.status, r.error_code, r.json["error"]["details"]["stock"]) == (409, "insufficient_stock", 5)
    product_id = services.catalog._repo.get_sku(shop["cash_only"])["product_id"]
    services.catalog.set_status("merch-t", product_id, "archived")
    assert place(api, "buyer", order_body((shop["cash_only"], 1))).error_code == "not_available"


def test_a_hotel_night_in_the_past_cannot_be_booked(api, services, shop, clock):
    clock.set("2099-12-18T15:59:00Z")  # 23:59 on the 18th in Shanghai: still bookable
    assert place(api, "buyer", order_body((shop["hotel"], 1), address=False)).status == 201
    clock.set("2099-12-19T16:00:00Z")  # the 20th in Shanghai
    r = place(api, "buyer", order_body((shop["hotel"], 1), address=False))
    assert (r.status, r.error_code, r.json["error"]["details"]["date"]) == (409, "not_available", "2099-12-18")


def test_shipping_address_is_required_unless_every_line_is_a_hotel_stay(api, services, shop):
    r = place(api, "buyer", order_body((shop["mixed"], 1), address=False))
    assert r.status == 400 and "shipping_address" in r.json["error"]["details"]["fields"]
    assert place(api, "buyer", order_body((shop["hotel"], 1), address=False)).status == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"items": [], "points": 0}, "items"),
        ({"items": [{"sku": "A", "qty": 0}], "points": 0}, "items.0.qty"),
        ({"items": [{"sku": "A", "qty": 100}], "points": 0}, "items.0.qty"),
        ({"items": [{"sku": "A", "qty": 1}], "points": -1}, "points"),
        ({"items": [{"sku": "A", "qty": 1}], "points": "10"}, "points"),
        ({"items": [{"sku": "A", "qty": 1}, {"sku": "A", "qty": 2}], "points": 0}, "items"),
        ({"items": [{"sku": "A", "qty": 1}], "points": 0, "price_fen": 1}, "price_fen"),
        ({"items": [{"sku": "A", "qty": 1}], "points": 0, "shipping_address": {"name": "x"}}, "shipping_address.phone"),
    ],
)
def test_bad_order_bodies_are_400(api, body, field):
    r = place(api, "buyer", body)
    assert r.status == 400 and field in r.json["error"]["details"]["fields"], r.json


def test_orders_are_private_to_their_buyer_and_merchandisers(api, services, shop):
    order = place(api, "buyer", order_body((shop["mixed"], 1))).json
    assert api.get(f"/orders/{order['order_id']}", user="stranger").status == 404
    assert api.get(f"/orders/{order['order_id']}", user="m", groups=("merchandiser",)).status == 200
    assert api.post(f"/orders/{order['order_id']}/cancel", user="stranger").status == 404
    mine = api.get("/me/orders", user="buyer").json["items"]
    assert [o["order_id"] for o in mine] == [order["order_id"]] and api.get("/me/orders", user="stranger").json[
        "items"
    ] == []
