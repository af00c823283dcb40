"""Coupons through the HTTP API: templates, grants, coupons bought with points, and one coupon off one order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.domain import coupons as coupon_rules
from chalicelib.domain.coupons import CouponGrantInput
from chalicelib.domain.errors import BudgetExhausted
from tests.api.shop import ADDRESS, add_product, balance, give_points, place
from tests.helpers import product_body, uid
from tools.reconcile import reconcile


def template(api, **overrides):
    body = {
        "coupon_id": uid("cpn"),
        "title": "¥10 off",
        "amount_off_fen": 1000,
        "min_subtotal_fen": 0,
        "categories": None,
        "valid_days": 30,
        "budget_count": 100,
        "per_user_limit": 1,
        **overrides,
    }
    r = api.merch("POST", "/admin/coupons", body)
    assert r.status == 201, r.json
    return r.json


def grant(api, coupon_id, user, ref=None):
    return api.merch("POST", f"/admin/coupons/{coupon_id}/grants", {"user_id": user, "ref": ref or uid("ref")})


def order(*lines, points=0, coupon=None):
    body = {"items": [{"sku": s, "qty": q} for s, q in lines], "points": points, "shipping_address": ADDRESS}
    if coupon:
        body["coupon"] = coupon
    return body


def test_a_template_says_what_it_takes_off_and_bad_ones_name_the_field(api):
    made = template(api, percent_off=15, amount_off_fen=None, categories=["food", "apparel"], budget_count=600)
    assert (made["issued"], made["left"], made["percent_off"]) == (0, 600, 15)
    assert api.merch("GET", f"/admin/coupons/{made['coupon_id']}").json == made
    assert made["coupon_id"] in [c["coupon_id"] for c in api.merch("GET", "/admin/coupons").json["items"]]
    again = api.merch(
        "POST",
        "/admin/coupons",
        {k: v for k, v in made.items() if k not in ("issued", "left", "created_at", "created_by")},
    )
    assert (again.status, again.error_code) == (409, "already_exists")
    bad = {
        "amount_off_fen": 15,
        "percent_off": 101,
        "valid_days": 0,
        "budget_count": 0,
        "per_user_limit": 0,
        "categories": ["weapons"],
        "min_subtotal_fen": -1,
    }
    for name, value in bad.items():
        body = {
            "coupon_id": uid("cpn"),
            "title": "x",
            "valid_days": 7,
            "budget_count": 10,
            "amount_off_fen": 1000,
            name: value,
        }
        if name == "percent_off":
            body.pop("amount_off_fen")
        r = api.merch("POST", "/admin/coupons", body)
        assert r.status == 400 and any(k.startswith(name) for k in r.json["error"]["details"]["fields"]), (name, r.json)
    both = api.merch(
        "POST",
        "/admin/coupons",
        {
            "coupon_id": uid("cpn"),
            "title": "x",
            "valid_days": 7,
            "budget_count": 10,
            "amount_off_fen": 1000,
            "percent_off": 10,
        },
    )
    assert both.status == 400 and "either amount_off_fen or percent_off" in str(both.json)
    assert api.post("/admin/coupons", {"coupon_id": uid("cpn")}, user=uid("fan")).status == 403


def test_grants_are_idempotent_on_ref_and_stop_at_the_user_limit_and_the_budget(api, services):
    made = template(api, budget_count=2, per_user_limit=1)
    cid, fan, other = made["coupon_id"], uid("fan"), uid("fan")
    first = grant(api, cid, fan, ref="welcome-1")
    assert first.status == 201 and first.json["status"] == "available" and first.json["source"] == "grant"
    assert grant(api, cid, fan, ref="welcome-1").json == first.json, "the same ref: the same coupon"
    stolen = grant(api, cid, other, ref="welcome-1")
    assert (stolen.status, stolen.error_code) == (409, "conflict")
    second = grant(api, cid, fan)
    assert (second.status, second.error_code) == (409, "coupon_limit")
    assert second.json["error"]["details"] == {"coupon_id": cid, "per_user_limit": 1, "received": 1}
    assert grant(api, cid, other).status == 201
    spent = grant(api, cid, uid("fan"))
    assert (spent.status, spent.error_code) == (409, "budget_exhausted")
    counts = api.merch("GET", f"/admin/coupons/{cid}").json
    assert (counts["issued"], counts["left"]) == (2, 0)
    mine = api.get("/me/coupons", user=fan).json["items"]
    assert [c["coupon"] for c in mine] == [first.json["coupon"]]
    assert api.get("/me/coupons", user=uid("nobody")).json["items"] == []
    assert grant(api, "no-such-coupon", fan).status == 404
    entries = [a for a in api.merch("GET", "/admin/audit?limit=100").json["items"] if a["action"] == "coupon.grant"]
    assert len(entries) == 2 and {e["entity_id"] for e in entries} == {cid}
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_a_coupon_comes_off_the_eligible_lines_before_the_points_cash_split(api, services):
    shirt = add_product(services, price_fen=3000, stock=5, category="apparel")
    tea = add_product(services, price_fen=2000, stock=5, category="food")
    fan = uid("fan")
    give_points(services, fan, 10_000)
    food_only = template(api, percent_off=15, amount_off_fen=None, categories=["food"])
    coupon = grant(api, food_only["coupon_id"], fan).json["coupon"]
    quote = api.post("/orders/quote", order((shirt, 1), (tea, 2), points=100, coupon=coupon), user=fan).json
    assert (quote["subtotal_fen"], quote["discount_fen"], quote["cash_due_fen"]) == (7000, 600, 5400)
    assert [line["discount_fen"] for line in quote["lines"]] == [0, 600]
    assert quote["max_points"] == 640, "points pay what is left after the discount"
    r = place(api, fan, order((shirt, 1), (tea, 2), points=640, coupon=coupon))
    assert r.status == 201, r.json
    assert (r.json["status"], r.json["discount_fen"], r.json["coupon"], r.json["points_applied"]) == (
        "paid",
        600,
        coupon,
        640,
    )
    assert balance(api, fan)["available"] == 10_000 - 640
    held = api.get("/me/coupons", user=fan).json["items"][0]
    assert (held["status"], held["order_id"]) == ("used", r.json["order_id"])
    again = place(api, fan, order((tea, 1), points=200, coupon=coupon))
    assert (again.status, again.error_code) == (422, "coupon_not_applicable")
    assert again.json["error"]["details"]["reason"] == "used" and "coupon" in again.json["error"]["details"]["fields"]

    ten_off = template(api, categories=None)
    spread = grant(api, ten_off["coupon_id"], fan).json["coupon"]
    split = api.post("/orders/quote", order((shirt, 1), (tea, 1), points=0, coupon=spread), user=fan).json
    assert [line["discount_fen"] for line in split["lines"]] == [600, 400], "in proportion, in whole points"
    assert split["cash_due_fen"] == 4000
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_coupons_that_do_not_apply_are_refused_naming_the_coupon_and_nothing_is_written(api, services, clock):
    tea = add_product(services, price_fen=2000, stock=5, category="food")
    fan, other = uid("fan"), uid("fan")
    give_points(services, fan, 10_000)
    clock.set("2026-11-24T02:00:00Z")
    minimum = grant(api, template(api, min_subtotal_fen=5000)["coupon_id"], fan).json["coupon"]
    tech = grant(api, template(api, categories=["tech"])["coupon_id"], fan).json["coupon"]
    theirs = grant(api, template(api)["coupon_id"], other).json["coupon"]
    short = grant(api, template(api, valid_days=1)["coupon_id"], fan).json["coupon"]
    cases = {minimum: (422, "below_minimum"), tech: (422, "categories"), theirs: (404, None)}
    for coupon, (status, reason) in cases.items():
        r = place(api, fan, order((tea, 2), points=400, coupon=coupon))
        assert r.status == status and "coupon" in r.json["error"]["details"]["fields"], r.json
        assert r.json["error"]["details"].get("reason") == reason
    clock.set("2026-11-25T02:00:01Z")
    expired = place(api, fan, order((tea, 1), points=200, coupon=short))
    assert (expired.status, expired.json["error"]["details"]["reason"]) == (422, "expired")
    statuses = {c["coupon"]: c["status"] for c in api.get("/me/coupons", user=fan).json["items"]}
    assert statuses == {minimum: "available", tech: "available", short: "expired"}
    malformed = place(api, fan, order((tea, 1), points=200, coupon="../other"))
    assert malformed.status == 400 and "coupon" in malformed.json["error"]["details"]["fields"]
    assert api.get("/me/orders", user=fan).json["items"] == []
    assert balance(api, fan)["available"] == 10_000


def test_an_order_that_ends_unpaid_or_is_cancelled_gives_its_coupon_back(api, services, clock):
    tea = add_product(services, price_fen=2000, stock=5, category="food")
    fan = uid("fan")
    give_points(services, fan, 10_000)
    coupon = grant(api, template(api)["coupon_id"], fan).json["coupon"]
    pending = place(api, fan, order((tea, 1), points=0, coupon=coupon)).json
    assert (pending["status"], pending["cash_due_fen"]) == ("pending_payment", 1000)
    assert api.post(f"/orders/{pending['order_id']}/cancel", user=fan).json["status"] == "cancelled"
    assert api.get("/me/coupons", user=fan).json["items"][0]["status"] == "available"
    paid = place(api, fan, order((tea, 1), points=100, coupon=coupon)).json
    assert (paid["status"], paid["points_applied"]) == ("paid", 100)
    refunded = api.merch("POST", f"/admin/orders/{paid['order_id']}/refund", {"reason": "damaged"}).json
    assert refunded["status"] == "refunded"
    assert api.get("/me/coupons", user=fan).json["items"][0]["status"] == "available"
    late = place(api, fan, order((tea, 1), points=0, coupon=coupon)).json
    clock.set("2030-01-01T00:00:00Z")  # the payment window and the coupon both ran out
    services.orders.expire_overdue()
    assert api.get(f"/orders/{late['order_id']}", user=fan).json["status"] == "expired"
    held = api.get("/me/coupons", user=fan).json["items"][0]
    assert (held["status"], held["order_id"]) == ("expired", None)
    assert reconcile(services.dynamodb, services.table)[1] == []


def coupon_product(api, coupon_id, price_fen=500, stock=50):
    body = product_body(
        status="active", kind="coupon", coupon_id=coupon_id, category="food", accepts={"points": True, "cash": False}
    )
    body["skus"][0].update(price_fen=price_fen, stock=stock)
    r = api.merch("POST", "/admin/products", body)
    assert r.status == 201, r.json
    return body["skus"][0]["sku"]


def test_a_coupon_bought_with_points_is_granted_at_once_and_taken_back_by_a_cancel(api, services):
    made = template(api, per_user_limit=2, budget_count=10)
    sku = coupon_product(api, made["coupon_id"])
    tea = add_product(services, price_fen=2000, stock=5, category="food")
    fan = uid("fan")
    give_points(services, fan, 1_000)
    bought = api.post(
        "/orders", {"items": [{"sku": sku, "qty": 1}], "points": 50}, user=fan, headers={"Idempotency-Key": uid("k")}
    )
    assert bought.status == 201, bought.json
    assert (bought.json["status"], len(bought.json["coupons"])) == ("paid", 1)
    assert bought.json["lines"][0]["digital"] and bought.json["lines"][0]["coupon_id"] == made["coupon_id"]
    held = api.get("/me/coupons", user=fan).json["items"][0]
    assert (held["coupon"], held["source"], held["bought_with"]) == (
        bought.json["coupons"][0],
        "purchase",
        bought.json["order_id"],
    )
    assert api.merch("GET", f"/admin/coupons/{made['coupon_id']}").json["issued"] == 1
    mixed = api.post(
        "/orders",
        {"items": [{"sku": sku, "qty": 1}, {"sku": tea, "qty": 1}], "points": 250, "shipping_address": ADDRESS},
        user=fan,
        headers={"Idempotency-Key": uid("k")},
    )
    assert mixed.status == 400 and "items.0.sku" in mixed.json["error"]["details"]["fields"]
    over = api.post("/orders/quote", {"items": [{"sku": sku, "qty": 2}], "points": 100}, user=fan)
    assert (over.status, over.error_code) == (409, "coupon_limit")
    use = place(api, fan, order((tea, 1), points=0, coupon=held["coupon"])).json
    busy = api.post(f"/orders/{bought.json['order_id']}/cancel", user=fan)
    assert (busy.status, busy.error_code) == (409, "not_cancellable"), "a coupon in use is not taken back"
    assert busy.json["error"]["details"]["order_id"] == use["order_id"]
    assert api.post(f"/orders/{use['order_id']}/cancel", user=fan).status == 200
    cancelled = api.post(f"/orders/{bought.json['order_id']}/cancel", user=fan)
    assert cancelled.json["status"] == "cancelled"
    assert api.get("/me/coupons", user=fan).json["items"][0]["status"] == "revoked"
    assert balance(api, fan)["available"] == 1_000
    assert api.merch("GET", f"/admin/coupons/{made['coupon_id']}").json["issued"] == 0
    revoked = place(api, fan, order((tea, 1), points=0, coupon=held["coupon"]))
    assert revoked.json["error"]["details"]["reason"] == "revoked"
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_a_coupon_product_must_name_a_template_and_be_paid_in_points(api):
    made = template(api)
    cash = product_body(status="active", kind="coupon", coupon_id=made["coupon_id"], category="food")
    assert api.merch("POST", "/admin/products", cash).status == 400
    unknown = product_body(
        status="active",
        kind="coupon",
        coupon_id="no-such-coupon",
        category="food",
        accepts={"points": True, "cash": False},
    )
    r = api.merch("POST", "/admin/products", unknown)
    assert r.status == 400 and list(r.json["error"]["details"]["fields"]) == ["coupon_id"]
    loose = product_body(status="active", coupon_id=made["coupon_id"])
    assert api.merch("POST", "/admin/products", loose).status == 400


def test_a_crowd_granted_one_sharded_budget_gets_exactly_the_budget(services, monkeypatch):
    """Real concurrent grants against DynamoDB Local, through the service: the budget's 4 shards empty exactly."""
    monkeypatch.setattr(coupon_rules, "BUDGET_PER_SHARD", 5)
    made = services.coupons.create(
        "merch-t",
        coupon_rules.CouponInput(
            coupon_id=uid("cpn"), title="crowd", amount_off_fen=100, valid_days=1, budget_count=20
        ),
    )
    template = services.coupons.template(made.coupon_id)
    assert template["budget_shards"] == 4

    def one(i):
        try:
            return services.coupons.grant(
                "merch-t", made.coupon_id, CouponGrantInput(user_id=uid("crowd"), ref=f"r-{i}")
            ).coupon
        except BudgetExhausted:
            return None

    with ThreadPoolExecutor(max_workers=16) as pool:
        got = list(pool.map(one, range(32)))
    assert len([g for g in got if g]) == 20 and len(set(got) - {None}) == 20
    assert services.coupon_repo.budget(made.coupon_id, 4) == {0: 0, 1: 0, 2: 0, 3: 0}
    assert reconcile(services.dynamodb, services.table)[1] == []


def buy_coupons(api, user, sku, qty, points, key=None):
    return api.post(
        "/orders",
        {"items": [{"sku": sku, "qty": qty}], "points": points},
        user=user,
        headers={"Idempotency-Key": key or uid("k")},
    )


def test_one_order_cannot_buy_more_coupons_than_the_per_user_limit(api, services):
    made = template(api, per_user_limit=1)
    sku = coupon_product(api, made["coupon_id"])
    fan = uid("fan")
    give_points(services, fan, 1_000)
    r = buy_coupons(api, fan, sku, 3, 150)
    assert (r.status, r.error_code) == (409, "coupon_limit"), r.json
    assert api.get("/me/coupons", user=fan).json["items"] == [] and balance(api, fan)["available"] == 1_000


def test_a_bought_coupon_that_expired_cannot_be_cancelled_but_a_refund_keeps_used_ones(api, services, clock):
    made = template(api, per_user_limit=3, valid_days=1)
    sku = coupon_product(api, made["coupon_id"])
    tea = add_product(services, price_fen=2000, stock=5, category="food")
    fan = uid("fan")
    give_points(services, fan, 1_000)
    clock.set("2026-11-24T02:00:00Z")
    lapsed = buy_coupons(api, fan, sku, 1, 50).json
    clock.set("2026-11-26T02:00:00Z")
    late = api.post(f"/orders/{lapsed['order_id']}/cancel", user=fan)
    assert (late.status, late.error_code) == (409, "not_cancellable"), "an expired coupon is not a free option"
    two = buy_coupons(api, fan, sku, 2, 100).json
    used = place(api, fan, order((tea, 1), points=100, coupon=two["coupons"][0])).json
    assert used["status"] == "paid"
    refunded = api.merch("POST", f"/admin/orders/{two['order_id']}/refund", {"reason": "goodwill"})
    assert refunded.json["status"] == "refunded", refunded.json
    statuses = {c["coupon"]: c["status"] for c in api.get("/me/coupons", user=fan).json["items"]}
    assert (statuses[two["coupons"][0]], statuses[two["coupons"][1]]) == ("used", "revoked")
    assert api.merch("GET", f"/admin/coupons/{made['coupon_id']}").json["issued"] == 2, (
        "the lapsed one and the used one"
    )
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_a_retried_order_with_a_coupon_replays_and_another_coupon_is_another_body(api, services):
    tea = add_product(services, price_fen=2000, stock=5, category="food")
    fan = uid("fan")
    give_points(services, fan, 10_000)
    first_coupon = grant(api, template(api)["coupon_id"], fan).json["coupon"]
    second_coupon = grant(api, template(api)["coupon_id"], fan).json["coupon"]
    first = place(api, fan, order((tea, 1), points=100, coupon=first_coupon), key="coupon-retry-1")
    again = place(api, fan, order((tea, 1), points=100, coupon=first_coupon), key="coupon-retry-1")
    assert (again.status, again.json["order_id"]) == (201, first.json["order_id"])
    other = place(api, fan, order((tea, 1), points=100, coupon=second_coupon), key="coupon-retry-1")
    assert (other.status, other.error_code) == (422, "idempotency_key_reused")
    assert balance(api, fan)["available"] == 10_000 - 100


def test_a_hundred_percent_coupon_makes_the_eligible_lines_free(api, services):
    cash_only = add_product(services, price_fen=1230, stock=5, category="food", points=False)
    points_only = add_product(services, price_fen=770, stock=5, category="food", cash=False)
    fan = uid("fan")
    free = grant(api, template(api, percent_off=100, amount_off_fen=None)["coupon_id"], fan).json["coupon"]
    quote = api.post("/orders/quote", order((cash_only, 1), (points_only, 2), coupon=free), user=fan).json
    assert (quote["discount_fen"], quote["cash_due_fen"], quote["max_points"]) == (2770, 0, 0)
    assert [line["discount_fen"] for line in quote["lines"]] == [1230, 1540]
    placed = place(api, fan, order((cash_only, 1), (points_only, 2), coupon=free)).json
    assert (placed["status"], placed["points_applied"], placed["cash_due_fen"]) == ("paid", 0, 0)


def test_a_coupon_whose_purchase_was_refunded_while_in_use_never_comes_back(api, services):
    """Buy a coupon (order A), use it in an unpaid order B, a merchandiser refunds A (the points come back), then
    cancel B: the coupon is revoked, not available again for ¥50 off a new order."""
    made = template(api, amount_off_fen=5000, budget_count=10)
    sku = coupon_product(api, made["coupon_id"])
    tea = add_product(services, price_fen=10000, stock=5, category="food")
    fan = uid("fan")
    give_points(services, fan, 50)
    bought = buy_coupons(api, fan, sku, 1, 50).json
    coupon = bought["coupons"][0]
    unpaid = place(api, fan, order((tea, 1), points=0, coupon=coupon)).json
    assert (unpaid["status"], unpaid["discount_fen"]) == ("pending_payment", 5000)
    refunded = api.merch("POST", f"/admin/orders/{bought['order_id']}/refund", {"reason": "goodwill"})
    assert refunded.json["status"] == "refunded" and balance(api, fan)["available"] == 50
    assert api.post(f"/orders/{unpaid['order_id']}/cancel", user=fan).json["status"] == "cancelled"
    held = api.get("/me/coupons", user=fan).json["items"][0]
    assert held["status"] == "revoked", held
    again = place(api, fan, order((tea, 1), points=0, coupon=coupon))
    assert (again.status, again.json["error"]["details"].get("reason")) == (422, "revoked"), again.json
    assert api.merch("GET", f"/admin/coupons/{made['coupon_id']}").json["issued"] == 0, "its budget came back"
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_reconcile_flags_a_usable_coupon_whose_purchase_was_refunded(api, services, throwaway):
    made = template(api)
    sku = coupon_product(api, made["coupon_id"])
    fan = uid("fan")
    give_points(services, fan, 50)
    bought = buy_coupons(api, fan, sku, 1, 50).json
    assert api.merch("POST", f"/admin/orders/{bought['order_id']}/refund", {"reason": "x"}).json["status"] == "refunded"
    assert reconcile(services.dynamodb, services.table)[1] == []
    coupon = bought["coupons"][0]
    services.dynamodb.update_item(  # what the bug left behind: taken back from the budget, usable all the same
        TableName=services.table.name,
        Key={"pk": {"S": f"USER#{fan}"}, "sk": {"S": f"COUPON#{coupon}"}},
        UpdateExpression="REMOVE revoked_at",
    )
    found = [d.describe() for d in reconcile(services.dynamodb, services.table)[1]]
    assert any(coupon in d and "refunded" in d for d in found), found
