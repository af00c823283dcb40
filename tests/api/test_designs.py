"""The co-design loop through the API: submit, vote, review, productize, sell, royalties, reversal."""

from __future__ import annotations

import json

import pytest

from chalicelib import workers
from chalicelib.domain.catalog import ProductInput
from tests.api.shop import ADDRESS, balance, give_points, order_of, place, record_gateway, stock
from tests.helpers import product_body, uid
from tools.reconcile import reconcile


def design_body(**overrides):
    body = {
        "title": "Constellation Tumbler",
        "description": "A steel tumbler etched with the night sky over Hefei.",
        "category": "home",
        "image_urls": ["https://img.example/d/1.png"],
        "proposed_price_fen": 12900,
    }
    body.update(overrides)
    return body


def submit(api, user="designer", **overrides):
    return api.post("/designs", design_body(**overrides), user=user)


def approve(api, design_id):
    return api.merch("POST", f"/admin/designs/{design_id}/decision", {"decision": "approve"})


def test_submissions_are_validated_and_private_until_approved(api):
    r = submit(api)
    assert r.status == 201 and r.json["status"] == "submitted" and r.json["designer_id"] == "designer"
    assert api.get("/designs").json["items"] == []
    assert [d["design_id"] for d in api.get("/me/designs", user="designer").json["items"]] == [r.json["design_id"]]
    assert api.get("/me/designs", user="someone").json["items"] == []
    for change, field in [
        ({"title": ""}, "title"),
        ({"title": "x" * 81}, "title"),
        ({"image_urls": []}, "image_urls"),
        ({"image_urls": ["http://plain.example/a.png"]}, "image_urls.0"),
        ({"image_urls": ["https://a.example/x.png"] * 9}, "image_urls"),
        ({"category": "cars"}, "category"),
        ({"proposed_price_fen": 15}, "proposed_price_fen"),
        ({"description": "d" * 2001}, "description"),
    ]:
        bad = submit(api, **change)
        assert bad.status == 400 and field in bad.json["error"]["details"]["fields"], (change, bad.json)


def test_at_most_ten_designs_wait_for_review_at_once(api):
    ids = [submit(api, title=f"Design {i}").json["design_id"] for i in range(10)]
    r = submit(api, title="One too many")
    assert (r.status, r.error_code) == (409, "too_many_open_designs")
    approve(api, ids[0])
    assert submit(api, title="Room again").status == 201


def test_approval_pays_the_reward_once_and_opens_the_gallery_for_votes(api):
    design_id = submit(api).json["design_id"]
    assert api.post(f"/designs/{design_id}/votes", user="fan-v").status == 404  # not public yet
    r = approve(api, design_id)
    assert r.status == 200 and r.json["status"] == "approved"
    assert api.get("/me", user="designer").json["points"]["available"] == 2000
    again = approve(api, design_id)
    assert (again.status, again.error_code) == (409, "invalid_status_transition")
    assert api.get("/me", user="designer").json["points"]["available"] == 2000
    assert api.post(f"/designs/{design_id}/votes", user="fan-v").json == {
        "design_id": design_id,
        "votes": 1,
        "score": 1,
        "weight": 1,
    }
    dup = api.post(f"/designs/{design_id}/votes", user="fan-v")
    assert (dup.status, dup.error_code) == (409, "already_voted")
    own = api.post(f"/designs/{design_id}/votes", user="designer")
    assert (own.status, own.error_code) == (403, "own_design")
    gallery = api.get("/designs?category=home").json["items"]
    assert [(d["design_id"], d["votes"], d["score"]) for d in gallery] == [(design_id, 1, 1)]
    assert api.get("/designs?category=tech").json["items"] == []
    ledger = api.get("/me/points/ledger", user="designer").json["items"]
    assert [(e["kind"], e["delta"]) for e in ledger] == [("design_reward", 2000)]
    assert api.merch("GET", "/admin/campaigns/design-rewards").json["issued_points"] == 2000


def test_rejection_needs_a_note_and_is_audited(api):
    design_id = submit(api).json["design_id"]
    r = api.merch("POST", f"/admin/designs/{design_id}/decision", {"decision": "reject"})
    assert r.status == 400 and "note" in r.json["error"]["details"]["fields"]
    r = api.merch("POST", f"/admin/designs/{design_id}/decision", {"decision": "reject", "note": "Too close to X"})
    assert r.status == 200 and r.json["status"] == "rejected" and r.json["note"] == "Too close to X"
    assert api.get("/me", user="designer").json["points"]["available"] == 0
    assert api.merch("GET", "/admin/designs?status=rejected").json["items"][0]["design_id"] == design_id
    entry = api.merch("GET", "/admin/audit?limit=1").json["items"][0]
    assert (entry["action"], entry["entity_id"], entry["after"]["note"]) == (
        "design.rejected",
        design_id,
        "Too close to X",
    )
    assert (
        api.merch(
            "POST",
            f"/admin/designs/{design_id}/product",
            {"category": "home", "title": "T", "title_zh": "T", "skus": [{"sku": "X-1", "price_fen": 100}]},
        ).status
        == 409
    )


def productized(api, sku, price_fen=19900, stock=20):
    design_id = submit(api).json["design_id"]
    approve(api, design_id)
    r = api.merch(
        "POST",
        f"/admin/designs/{design_id}/product",
        {
            "category": "home",
            "title": "Constellation Tumbler",
            "title_zh": "星空保温杯",
            "status": "active",
            "skus": [{"sku": sku, "price_fen": price_fen, "stock": stock}],
        },
    )
    assert r.status == 201 and (r.json["designer_id"], r.json["design_id"]) == ("designer", design_id)
    return design_id


def royalties_of(api):
    mine = api.get("/me/designs", user="designer").json["items"][0]
    return mine["units_sold"], mine["royalty_points_pending"], mine["royalty_points"]


def test_royalties_are_pending_until_the_return_window_after_shipping_closes(api, services, clock):
    productized(api, "HOME-TUMBLER")
    give_points(services, "shopper", 4000)
    clock.set("2026-11-20T02:00:00Z")
    order = place(
        api, "shopper", {"items": [{"sku": "HOME-TUMBLER", "qty": 2}], "points": 3980, "shipping_address": ADDRESS}
    ).json
    assert order["status"] == "paid"
    # floor(39800 / 10 × 0.05) = 199 points, owed but not spendable: the buyer may still return the goods
    assert api.get("/me", user="designer").json["points"]["available"] == 2000
    assert royalties_of(api) == (2, 199, 0)
    ship = api.post(
        f"/partner/orders/{order['order_id']}/shipments",
        {"carrier": "SF", "tracking_number": "SF0001"},
        partner="warehouse",
    )
    assert ship.status == 200
    clock.set("2026-11-27T01:59:59Z")  # seven days after shipping, less a second
    assert workers.settle_royalties() == 0 and royalties_of(api) == (2, 199, 0)
    clock.set("2026-11-27T02:00:01Z")
    assert workers.settle_royalties() == 1 and workers.settle_royalties() == 0
    assert api.get("/me", user="designer").json["points"]["available"] == 2000 + 199
    assert royalties_of(api) == (2, 0, 199)
    # A refund after the window (a warranty case) reverses what was credited, outside the order's transaction.
    assert api.merch("POST", f"/admin/orders/{order['order_id']}/refund", {"reason": "faulty"}).status == 200
    assert api.get("/me", user="designer").json["points"]["available"] == 2000
    kinds = [e["kind"] for e in api.get("/me/points/ledger", user="designer").json["items"]]
    assert kinds == ["reversal", "royalty", "design_reward"]
    assert royalties_of(api) == (0, 0, 0)
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_a_cancel_before_the_window_closes_drops_the_royalty_the_designer_never_had(api, services, clock):
    productized(api, "HOME-TUMBLER")
    give_points(services, "shopper", 4000)
    order = place(
        api, "shopper", {"items": [{"sku": "HOME-TUMBLER", "qty": 2}], "points": 3980, "shipping_address": ADDRESS}
    ).json
    assert royalties_of(api) == (2, 199, 0)
    assert api.post(f"/orders/{order['order_id']}/cancel", user="shopper").json["status"] == "cancelled"
    assert royalties_of(api) == (0, 0, 0)
    assert api.get("/me", user="designer").json["points"]["available"] == 2000
    kinds = [e["kind"] for e in api.get("/me/points/ledger", user="designer").json["items"]]
    assert kinds == ["design_reward"], "nothing credited, nothing to claw back"
    assert workers.settle_royalties() == 0


def test_royalty_work_the_request_path_missed_is_done_by_the_scheduled_worker(api, services, monkeypatch):
    productized(api, "HOME-TUMBLER-2", price_fen=10000, stock=5)
    monkeypatch.setattr(services.royalties, "settle", lambda order_id=None: 0)  # the request path crashed here
    give_points(services, "shopper", 1000)
    place(api, "shopper", {"items": [{"sku": "HOME-TUMBLER-2", "qty": 1}], "points": 1000, "shipping_address": ADDRESS})
    assert royalties_of(api) == (0, 0, 0)
    monkeypatch.undo()
    assert workers.settle_royalties() == 1 and workers.settle_royalties() == 0
    assert royalties_of(api) == (1, 50, 0)


@pytest.mark.parametrize("body, field", [({"decision": "maybe"}, "decision"), ({"decision": "approve", "x": 1}, "x")])
def test_bad_decisions_are_400(api, body, field):
    design_id = submit(api).json["design_id"]
    r = api.merch("POST", f"/admin/designs/{design_id}/decision", body)
    assert r.status == 400 and field in r.json["error"]["details"]["fields"]
    assert api.merch("POST", "/admin/designs/d-nope/decision", {"decision": "approve"}).status == 404
    assert api.post(f"/admin/designs/{design_id}/decision", {"decision": "approve"}, user="designer").status == 403


# -- What an attacker showed us (money hardening): stock hoarding, payment events that must match, failed payments
# that are not final, orders too big to cancel, sales at old terms, input hygiene. Here: designers' display names,
# orders of many designer lines, and the royalty settlement's pages. --
@pytest.fixture
def gateway(services):
    return record_gateway(services)


def test_the_public_sees_a_designers_display_name_never_their_user_id(api):
    designer = uid("designer")
    design_id = api.post("/designs", design_body(), user=designer).json["design_id"]
    api.merch("POST", f"/admin/designs/{design_id}/decision", {"decision": "approve"})
    product = api.merch("POST", f"/admin/designs/{design_id}/product", {**product_body(), "status": "active"}).json
    assert product["designer_id"] == designer, "merchandisers see who it is"
    public = [
        api.get(f"/products/{product['product_id']}").json,
        next(
            p
            for p in api.get("/products?category=tech&limit=100").json["items"]
            if p["product_id"] == product["product_id"]
        ),
        next(d for d in api.get("/designs?limit=100").json["items"] if d["design_id"] == design_id),
    ]
    assert all(designer not in json.dumps(view) for view in public)
    names = {view["designer_name"] for view in public}
    assert len(names) == 1 and names.pop().startswith("Designer ")
    mine = api.get("/me/designs", user=designer).json["items"][0]
    assert mine["designer_id"] == designer


# -- no order is too big to cancel or refund -------------------------------------------------------------------
def designer_products(services, n: int, designer: str) -> list[str]:
    skus = []
    for i in range(n):
        sku = uid("DSN").upper()
        services.catalog.create(
            "merch-t",
            ProductInput.model_validate(
                {
                    "category": "home",
                    "title": f"Designed {i}",
                    "title_zh": "设计",
                    "status": "active",
                    "skus": [{"sku": sku, "price_fen": 1000, "stock": 5}],
                }
            ),
            designer_id=designer,
        )
        skus.append(sku)
    return skus


def test_an_order_of_fifty_designer_lines_can_be_paid_cancelled_and_refunded(api, services, gateway):
    designer = uid("designer")
    skus = designer_products(services, 50, designer)
    buyer = uid("buyer")
    give_points(services, buyer, 10_000)
    body = {"items": [{"sku": s, "qty": 1} for s in skus], "points": 2500, "shipping_address": ADDRESS}
    pending_order = place(api, buyer, body).json  # 50,000 fen: 2,500 points + 25,000 fen cash
    assert (pending_order["status"], pending_order["cash_due_fen"]) == ("pending_payment", 25000)
    api.post(f"/dev/payments/{pending_order['payment']['payment_intent_id']}/succeed")
    assert order_of(api, pending_order)["status"] == "paid"
    cancelled = api.post(f"/orders/{pending_order['order_id']}/cancel", user=buyer)
    assert cancelled.status == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled" and cancelled.json["payment"]["status"] == "refunded"
    assert gateway.refunds[-1][1] == 25000 and all(stock(services, s) == 5 for s in skus)
    assert balance(api, buyer) == {"available": 10_000, "held": 0}
    paid_at_once = place(api, buyer, {**body, "points": 5000}).json
    assert paid_at_once["status"] == "paid"
    refunded = api.merch("POST", f"/admin/orders/{paid_at_once['order_id']}/refund", {"reason": "recall"})
    assert (refunded.status, refunded.json["status"]) == (200, "refunded")
    assert balance(api, buyer) == {"available": 10_000, "held": 0}
    assert api.get("/me", user=designer).json["points"]["available"] == 0, "nothing was ever credited"


def test_shoppers_never_see_who_designed_a_line_but_merchandisers_and_royalties_do(api, services):
    designer = uid("designer")
    [sku] = designer_products(services, 1, designer)
    fan = uid("fan")
    give_points(services, fan, 100)
    quote = api.post(
        "/orders/quote", {"items": [{"sku": sku, "qty": 1}], "points": 100, "shipping_address": ADDRESS}, user=fan
    )
    order = place(api, fan, {"items": [{"sku": sku, "qty": 1}], "points": 100, "shipping_address": ADDRESS})
    mine = api.get(f"/orders/{order.json['order_id']}", user=fan)
    for shown in (quote.json, order.json, mine.json, api.get("/me/orders", user=fan).json["items"][0]):
        assert shown["lines"][0]["designer_id"] is None and designer not in json.dumps(shown)
    merch = api.merch("GET", f"/orders/{order.json['order_id']}").json
    assert merch["lines"][0]["designer_id"] == designer
    assert services.order_repo.get(order.json["order_id"]).lines[0].designer_id == designer, "kept for royalties"


def test_one_settlement_run_clears_more_than_a_page_of_royalty_work(services):
    tx = services.order_repo.begin()
    for _ in range(105):
        services.royalties._repo.add(
            tx,
            uid("o"),
            [{"sku": "S-1", "designer_id": uid("d"), "design_id": None, "qty": 1, "points": 0}],
            "2026-11-23T10:00:00.000Z",
        )
        if len(tx) == 100:
            tx.commit()
            tx = services.order_repo.begin()
    tx.commit()
    assert workers.settle_royalties() == 105, "every paid order's lines shown as pending in one run"
    assert services.royalties._repo.due("2099-01-01T00:00:00.000Z") == []
