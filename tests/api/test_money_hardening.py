"""What an attacker showed us (issue: money hardening): stock hoarding, payment events that must match,
failed payments that are not final, orders too big to cancel, sales at old terms, input hygiene."""
from __future__ import annotations

from chalicelib import workers
from tests.api.shop import add_product, balance, give_points, order_body, place, stock
from tests.helpers import uid


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


def test_the_expiry_sweep_expires_every_overdue_order_not_only_the_first_hundred(api, services, clock):
    sku = add_product(services, price_fen=10000, stock=1000)
    clock.set("2026-11-23T10:00:00Z")
    orders = [place(api, uid("fan"), order_body((sku, 1))).json for _ in range(105)]
    assert {o["status"] for o in orders} == {"pending_payment"} and stock(services, sku) == 895
    clock.set("2026-11-23T10:15:01Z")
    assert workers.expire_orders() == 105
    assert stock(services, sku) == 1000
    assert api.get(f"/orders/{orders[-1]['order_id']}", user=orders[-1]["user_id"]).json["status"] == "expired"
    fresh = place(api, orders[0]["user_id"], order_body((sku, 1)))
    assert fresh.status == 201, "an expired order no longer counts against the pending limit"


def test_a_points_order_paid_at_once_is_not_pending_and_never_counts(api, services):
    sku = add_product(services, price_fen=1000, stock=50, cash=False)
    buyer = uid("fan")
    give_points(services, buyer, 1000)
    assert [place(api, buyer, order_body((sku, 1), points=100)).status for _ in range(5)] == [201] * 5
    assert balance(api, buyer) == {"available": 500, "held": 0}
