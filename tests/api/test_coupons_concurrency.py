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
    assert (
        live_api.merch(
            "POST",
            "/admin/coupons",
            {"coupon_id": cid, "title": "¥5 off", "amount_off_fen": 500, "valid_days": 7, "budget_count": 10},
        ).status
        == 201
    )
    coupon = live_api.merch("POST", f"/admin/coupons/{cid}/grants", {"user_id": fan, "ref": "r1"}).json["coupon"]
    give_points(services, fan, 10_000)

    def order(i):
        return live_api.post(
            "/orders",
            {"items": [{"sku": sku, "qty": 1}], "points": 150, "coupon": coupon, "shipping_address": ADDRESS},
            user=fan,
            headers={"Idempotency-Key": uid("race")},
        )

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
    assert (
        live_api.merch(
            "POST",
            "/admin/coupons",
            {"coupon_id": cid, "title": "launch", "percent_off": 10, "valid_days": 7, "budget_count": 20},
        ).status
        == 201
    )

    def grant(i):
        return live_api.merch("POST", f"/admin/coupons/{cid}/grants", {"user_id": uid("crowd"), "ref": f"r-{i}"})

    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(grant, range(30)))
    assert sorted(r.status for r in replies) == [201] * 20 + [409] * 10, [r.json for r in replies if r.status >= 500]
    assert {r.error_code for r in replies if r.status == 409} == {"budget_exhausted"}
    counts = live_api.merch("GET", f"/admin/coupons/{cid}").json
    assert (counts["issued"], counts["left"]) == (20, 0)


def coupon_product(live_api, per_user_limit):
    cid = uid("cpn")
    assert (
        live_api.merch(
            "POST",
            "/admin/coupons",
            {
                "coupon_id": cid,
                "title": "¥3 off",
                "amount_off_fen": 300,
                "valid_days": 7,
                "budget_count": 100,
                "per_user_limit": per_user_limit,
            },
        ).status
        == 201
    )
    body = product_body(
        status="active", kind="coupon", coupon_id=cid, category="food", accepts={"points": True, "cash": False}
    )
    body["skus"][0].update(price_fen=100, stock=100)
    assert live_api.merch("POST", "/admin/products", body).status == 201
    return cid, body["skus"][0]["sku"]


def test_one_user_buying_a_coupon_six_times_at_once_gets_the_per_user_limit(live_api, live_server):
    services = live_server["container"]
    cid, sku = coupon_product(live_api, per_user_limit=2)
    fan = uid("fan")
    give_points(services, fan, 1_000)

    def buy(i):
        return live_api.post(
            "/orders",
            {"items": [{"sku": sku, "qty": 1}], "points": 10},
            user=fan,
            headers={"Idempotency-Key": uid("buy")},
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(buy, range(6)))
    assert sorted(r.status for r in replies) == [201] * 2 + [409] * 4, [r.json for r in replies]
    assert {r.error_code for r in replies if r.status == 409} == {"coupon_limit"}
    assert len(live_api.get("/me/coupons", user=fan).json["items"]) == 2
    assert live_api.get("/me", user=fan).json["points"]["available"] == 1_000 - 20
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_cancelling_a_coupon_purchase_while_its_coupon_is_being_used_lets_only_one_win(live_api, live_server):
    services = live_server["container"]
    _, sku = coupon_product(live_api, per_user_limit=10)
    tea = product_body(status="active", category="food")
    tea["skus"][0].update(price_fen=2000, stock=50)
    assert live_api.merch("POST", "/admin/products", tea).status == 201
    fan = uid("fan")
    give_points(services, fan, 10_000)
    for _ in range(5):
        bought = live_api.post(
            "/orders",
            {"items": [{"sku": sku, "qty": 1}], "points": 10},
            user=fan,
            headers={"Idempotency-Key": uid("buy")},
        ).json
        coupon = bought["coupons"][0]

        def cancel(bought=bought):
            return live_api.post(f"/orders/{bought['order_id']}/cancel", user=fan)

        def use(coupon=coupon):
            return live_api.post(
                "/orders",
                {
                    "items": [{"sku": tea["skus"][0]["sku"], "qty": 1}],
                    "points": 170,
                    "coupon": coupon,
                    "shipping_address": ADDRESS,
                },
                user=fan,
                headers={"Idempotency-Key": uid("use")},
            )

        with ThreadPoolExecutor(max_workers=2) as pool:
            cancelled, used = [f.result() for f in (pool.submit(cancel), pool.submit(use))]
        outcome = (cancelled.status, used.status)
        assert outcome in ((200, 422), (409, 201)), (cancelled.json, used.json)
        if outcome == (200, 422):
            assert used.json["error"]["details"]["reason"] == "revoked"
        else:
            assert cancelled.error_code == "not_cancellable"
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_refunding_a_coupon_purchase_while_the_order_using_it_is_cancelled_revokes_it_either_way(live_api, live_server):
    """The merchandiser's refund of the purchase and the shopper's cancel of the order using the coupon, at once:
    whichever commits first, the coupon ends revoked with its budget back, never available again."""
    services = live_server["container"]
    cid, sku = coupon_product(live_api, per_user_limit=10)
    tea = product_body(status="active", category="food")
    tea["skus"][0].update(price_fen=2000, stock=50)
    assert live_api.merch("POST", "/admin/products", tea).status == 201
    fan = uid("fan")
    give_points(services, fan, 10_000)
    for _ in range(8):
        bought = live_api.post(
            "/orders",
            {"items": [{"sku": sku, "qty": 1}], "points": 10},
            user=fan,
            headers={"Idempotency-Key": uid("b")},
        ).json
        coupon = bought["coupons"][0]
        unpaid = live_api.post(
            "/orders",
            {
                "items": [{"sku": tea["skus"][0]["sku"], "qty": 1}],
                "points": 0,
                "coupon": coupon,
                "shipping_address": ADDRESS,
            },
            user=fan,
            headers={"Idempotency-Key": uid("use")},
        ).json
        assert unpaid.get("status") == "pending_payment", unpaid
        with ThreadPoolExecutor(max_workers=2) as pool:
            refund = pool.submit(
                live_api.merch, "POST", f"/admin/orders/{bought['order_id']}/refund", {"reason": "goodwill"}
            )
            cancel = pool.submit(live_api.post, f"/orders/{unpaid['order_id']}/cancel", user=fan)
            replies = (refund.result(), cancel.result())
        assert [r.status for r in replies] == [200, 200], [r.json for r in replies]
        held = {c["coupon"]: c["status"] for c in live_api.get("/me/coupons?limit=100", user=fan).json["items"]}
        assert held[coupon] == "revoked"
    assert live_api.merch("GET", f"/admin/coupons/{cid}").json["issued"] == 0
    assert live_api.get("/me", user=fan).json["points"]["available"] == 10_000
    assert reconcile(services.dynamodb, services.table)[1] == []
