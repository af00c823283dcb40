"""Checkout under concurrent requests through a live `chalice local` on DynamoDB Local."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.api.shop import add_product, give_points, order_body, place, stock
from tests.helpers import uid
from tools.reconcile import reconcile


def parallel(n: int, call):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def test_sixteen_buyers_of_a_sku_with_stock_five_make_exactly_five_orders(live_api, live_server):
    services = live_server["container"]
    sku = add_product(services, price_fen=9900, stock=5)
    buyers = [uid("buyer") for _ in range(16)]
    replies = parallel(16, lambda i: place(live_api, buyers[i], order_body((sku, 1))))
    assert sorted(r.status for r in replies) == [201] * 5 + [409] * 11, [r.json for r in replies]
    assert {r.error_code for r in replies if r.status == 409} == {"insufficient_stock"}
    assert stock(services, sku) == 0


def test_ten_orders_of_1000_points_from_a_2500_balance_exactly_two_succeed(live_api, live_server):
    services = live_server["container"]
    sku = add_product(services, price_fen=10000, stock=100, cash=False)
    buyer = uid("buyer")
    give_points(services, buyer, 2500)
    replies = parallel(10, lambda _: place(live_api, buyer, order_body((sku, 1), points=1000)))
    assert sorted(r.status for r in replies) == [201] * 2 + [409] * 8, [r.json for r in replies]
    assert {r.error_code for r in replies if r.status == 409} == {"insufficient_points"}
    me = live_api.get("/me", user=buyer).json
    assert me["points"] == {"available": 500, "held": 0} and stock(services, sku) == 98
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_a_hundred_replays_of_one_key_make_one_order_and_one_payment_intent(live_api, live_server):
    services = live_server["container"]
    sku = add_product(services, price_fen=10000, stock=100)
    buyer, key = uid("buyer"), uid("idem")
    body = order_body((sku, 1))
    replies = parallel(100, lambda _: place(live_api, buyer, body, key=key))
    assert all(r.status == 201 for r in replies), {r.status for r in replies}
    assert len({r.json["order_id"] for r in replies}) == 1
    assert len({r.json["payment"]["payment_intent_id"] for r in replies}) == 1
    assert stock(services, sku) == 99
    assert len(live_api.get("/me/orders", user=buyer).json["items"]) == 1


def test_eight_simultaneous_unpaid_orders_by_one_user_leave_exactly_three_pending(live_api, live_server):
    services = live_server["container"]
    sku = add_product(services, price_fen=10000, stock=100)
    hoarder = uid("fan")
    replies = parallel(8, lambda _: place(live_api, hoarder, order_body((sku, 10))))
    assert sorted(r.status for r in replies) == [201] * 3 + [409] * 5, [r.json for r in replies]
    assert {r.error_code for r in replies if r.status == 409} == {"too_many_pending_orders"}
    assert stock(services, sku) == 70
    assert len(live_api.get("/me/orders", user=hoarder).json["items"]) == 3
