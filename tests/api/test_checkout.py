"""Checkout through the API: splits, holds, payment, idempotency, owner-only lines, events."""

from __future__ import annotations

import pytest

from tests.api.shop import add_product, balance, give_points, make_owner, order_body, place, queued_events, stock
from tests.helpers import uid


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


@pytest.mark.streams
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


@pytest.mark.streams
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


# -- What an attacker showed us (money hardening): stock hoarding, payment events that must match, failed payments
# that are not final, orders too big to cancel, sales at old terms, input hygiene. Here: stock hoarding, sales at
# old terms. --
def test_a_new_account_cannot_hoard_stock_in_more_than_three_unpaid_orders(api, services):
    sku = add_product(services, price_fen=10000, stock=500)
    hoarder = uid("fan")  # 0 points, no payment method
    held = [place(api, hoarder, order_body((sku, 99))) for _ in range(3)]
    assert [r.json["status"] for r in held] == ["pending_payment"] * 3
    fourth = place(api, hoarder, order_body((sku, 99)))
    assert (fourth.status, fourth.error_code) == (409, "too_many_pending_orders")
    assert fourth.json["error"]["details"] == {"pending_orders": 3, "max_pending_orders": 3}
    assert stock(services, sku) == 500 - 3 * 99, "the refused order holds nothing"
    # Paying or cancelling one frees a place.
    api.post(f"/orders/{held[0].json['order_id']}/cancel", user=hoarder)
    api.post(f"/dev/payments/{held[1].json['payment']['payment_intent_id']}/succeed")
    again = [place(api, hoarder, order_body((sku, 1))) for _ in range(3)]
    assert [r.status for r in again] == [201, 201, 409]


def test_a_points_order_paid_at_once_is_not_pending_and_never_counts(api, services):
    sku = add_product(services, price_fen=1000, stock=50, cash=False)
    buyer = uid("fan")
    give_points(services, buyer, 1000)
    assert [place(api, buyer, order_body((sku, 1), points=100)).status for _ in range(5)] == [201] * 5
    assert balance(api, buyer) == {"available": 500, "held": 0}


# -- never sold at old terms -------------------------------------------------------------------------------------
def between_checkouts_read_and_write(services, change) -> list:
    """Run `change` right after checkout's first read, before its transaction; returns the reads checkout made."""
    repo, reads = services.order_repo, []
    read_once = repo.checkout_reads

    def read_then_change(*args):
        read = read_once(*args)
        if not reads:
            change()
        reads.append(read)
        return read

    repo.checkout_reads = read_then_change
    return reads


def test_a_product_changed_between_checkouts_read_and_write_is_not_sold_at_the_old_terms(api, services):
    sku = add_product(services, price_fen=10000, stock=5, category="car-life")
    product_id = services.catalog._repo.get_sku(sku)["product_id"]
    edited = {
        "category": "car-life",
        "title": "Floor mats",
        "title_zh": "脚垫",
        "owner_only": True,
        "skus": [{"sku": sku, "price_fen": 20000}],
    }  # owner-only at twice the price
    reads = between_checkouts_read_and_write(
        services, lambda: api.merch("PUT", f"/admin/products/{product_id}", edited)
    )
    fan = uid("fan")
    r = place(api, fan, order_body((sku, 1)))
    assert (r.status, r.error_code) == (403, "owner_only"), r.json
    assert len(reads) == 2, "the lost race was re-read and re-planned"
    assert stock(services, sku) == 5 and api.get("/me/orders", user=fan).json["items"] == []


def test_a_sku_removed_and_added_again_between_checkouts_read_and_write_is_not_sold_at_old_terms(api, services):
    sku = add_product(services, price_fen=10000, stock=5, category="car-life")
    product_id = services.catalog._repo.get_sku(sku)["product_id"]
    base = {"category": "car-life", "title": "Mats", "title_zh": "脚垫"}

    def remove_then_add_again() -> None:
        api.merch("PUT", f"/admin/products/{product_id}", {**base, "skus": [{"sku": "OTHER-" + sku, "price_fen": 100}]})
        api.merch(
            "PUT",
            f"/admin/products/{product_id}",
            {**base, "owner_only": True, "skus": [{"sku": sku, "price_fen": 20000, "stock": 5}]},
        )

    between_checkouts_read_and_write(services, remove_then_add_again)
    r = place(api, uid("fan"), order_body((sku, 1)))
    assert (r.status, r.error_code) == (403, "owner_only"), r.json


def test_an_order_is_placed_only_at_the_numbers_the_shopper_was_shown(api, services):
    sku = add_product(services, price_fen=10000, stock=5)
    buyer = uid("fan")
    give_points(services, buyer, 300)
    shown = {"cash_due_fen": 7000, "points": 300}
    stale = place(api, buyer, {**order_body((sku, 1), points=300), "expected": {**shown, "cash_due_fen": 6000}})
    assert (stale.status, stale.error_code) == (409, "price_changed")
    assert stale.json["error"]["details"]["cash_due_fen"] == 7000
    assert stock(services, sku) == 5 and balance(api, buyer) == {"available": 300, "held": 0}
    ok = place(api, buyer, {**order_body((sku, 1), points=300), "expected": shown})
    assert ok.status == 201 and ok.json["cash_due_fen"] == 7000
    bad = place(api, buyer, {**order_body((sku, 1)), "expected": {"cash_due_fen": -1, "points": "3"}})
    assert bad.status == 400 and set(bad.json["error"]["details"]["fields"]) == {
        "expected.cash_due_fen",
        "expected.points",
    }
