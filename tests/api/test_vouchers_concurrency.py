"""Buyers racing for voucher codes through a live `chalice local` on DynamoDB Local: a code is never sold twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.helpers import product_body, uid
from tools.reconcile import reconcile


def test_twelve_buyers_of_six_codes_get_six_orders_with_six_distinct_codes(live_api, live_server):
    body = product_body(status="active", kind="voucher", category="food", accepts={"points": False, "cash": True})
    body["skus"][0].update(price_fen=2000, stock=0)
    assert live_api.merch("POST", "/admin/products", body).status == 201
    sku = body["skus"][0]["sku"]
    codes = [f"COFFEE-{uid('c')}" for _ in range(6)]
    assert live_api.merch("POST", f"/admin/skus/{sku}/codes", {"codes": codes}).json["available"] == 6

    def order(i):
        return live_api.post(
            "/orders",
            {"items": [{"sku": sku, "qty": 1}], "points": 0},
            user=uid("buyer"),
            headers={"Idempotency-Key": uid("race")},
        )

    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(order, range(12)))
    assert sorted(r.status for r in replies) == [201] * 6 + [409] * 6, [r.json for r in replies if r.status >= 500]
    assert {r.error_code for r in replies if r.status == 409} == {"insufficient_stock"}
    services = live_server["container"]
    sold = [services.voucher_repo.get(c).get("order_id") for c in codes]
    placed = {r.json["order_id"] for r in replies if r.status == 201}
    assert sorted(sold) == sorted(placed), "each code went to exactly one order, each order got one"
    assert reconcile(services.dynamodb, services.table)[1] == []
