"""One coupon, many orders at once, through a live `chalice local` on DynamoDB Local: one discount, ever."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.api.shop import ADDRESS, give_points
from tests.helpers import product_body, uid
from tools.reconcile import reconcile


def test_one_coupon_sent_in_eight_concurrent_orders_discounts_exactly_one(live_api, live_server):
    services = live_server["container"]
    body = product_body(status="active", category="food")
    body["skus"][0].update(price_fen=2000, stock=50)
    assert live_api.merch("POST", "/admin/products", body).status == 201
    sku = body["skus"][0]["sku"]
    cid, fan = uid("cpn"), uid("fan")
    assert live_api.merch("POST", "/admin/coupons", {"coupon_id": cid, "title": "¥5 off", "amount_off_fen": 500,
                                                     "valid_days": 7, "budget_count": 10}).status == 201
    coupon = live_api.merch("POST", f"/admin/coupons/{cid}/grants", {"user_id": fan, "ref": "r1"}).json["coupon"]
    give_points(services, fan, 10_000)

    def order(i):
        return live_api.post("/orders", {"items": [{"sku": sku, "qty": 1}], "points": 150, "coupon": coupon,
                                         "shipping_address": ADDRESS}, user=fan,
                             headers={"Idempotency-Key": uid("race")})

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(order, range(8)))
    assert sorted(r.status for r in replies) == [201] + [422] * 7, [r.json for r in replies]
    assert {r.json["error"]["details"]["reason"] for r in replies if r.status == 422} == {"used"}
    placed = [r.json for r in replies if r.status == 201][0]
    assert (placed["discount_fen"], placed["points_applied"], placed["status"]) == (500, 150, "paid")
    assert live_api.get("/me", user=fan).json["points"]["available"] == 10_000 - 150, "charged once"
    held = live_api.get("/me/coupons", user=fan).json["items"]
    assert [(c["status"], c["order_id"]) for c in held] == [("used", placed["order_id"])]
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_thirty_concurrent_grants_of_a_twenty_coupon_budget_issue_twenty(live_api, live_server):
    cid = uid("cpn")
    assert live_api.merch("POST", "/admin/coupons", {"coupon_id": cid, "title": "launch", "percent_off": 10,
                                                     "valid_days": 7, "budget_count": 20}).status == 201

    def grant(i):
        return live_api.merch("POST", f"/admin/coupons/{cid}/grants", {"user_id": uid("crowd"), "ref": f"r-{i}"})

    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(grant, range(30)))
    assert sorted(r.status for r in replies) == [201] * 20 + [409] * 10, [r.json for r in replies if r.status >= 500]
    assert {r.error_code for r in replies if r.status == 409} == {"budget_exhausted"}
    counts = live_api.merch("GET", f"/admin/coupons/{cid}").json
    assert (counts["issued"], counts["left"]) == (20, 0)
