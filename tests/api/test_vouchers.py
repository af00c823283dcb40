"""Voucher products through the HTTP API: codes uploaded once, sold once, shown to the buyer only once paid."""

from __future__ import annotations

import pytest

from chalicelib.adapters.vouchers_repo import code_key
from tests.api.shop import ADDRESS, drain_stream, give_points, queued_events
from tests.helpers import product_body, uid
from tools.reconcile import reconcile


def voucher(api, codes=(), category="food", cash=False):
    body = product_body(status="active", kind="voucher", category=category, accepts={"points": True, "cash": cash})
    body["skus"][0].update(price_fen=2000, stock=0)
    r = api.merch("POST", "/admin/products", body)
    assert r.status == 201, r.json
    sku = body["skus"][0]["sku"]
    if codes:
        assert api.merch("POST", f"/admin/skus/{sku}/codes", {"codes": list(codes)}).status == 200
    return r.json, sku


def buy(api, user, sku, qty=1, points=None, address=False, key=None):
    body = {"items": [{"sku": sku, "qty": qty}], "points": 200 * qty if points is None else points}
    if address:
        body["shipping_address"] = ADDRESS
    return api.post("/orders", body, user=user, headers={"Idempotency-Key": key or uid("v-key")})


def test_codes_are_uploaded_once_and_counted_as_stock(api, services):
    product, sku = voucher(api)
    assert product["kind"] == "voucher" and product["skus"][0]["stock"] == 0
    r = api.merch("POST", f"/admin/skus/{sku}/codes", {"codes": ["TEA-001", "TEA-002", "TEA-002", "TEA-003"]})
    assert (r.status, r.json) == (200, {"added": 3, "duplicates": 1, "available": 3})
    r = api.merch("POST", f"/admin/skus/{sku}/codes", {"codes": ["TEA-003", "TEA-004"]})
    assert r.json == {"added": 1, "duplicates": 1, "available": 4}
    assert api.get(f"/products/{product['product_id']}").json["skus"][0]["stock"] == 4
    entries = [a for a in api.merch("GET", "/admin/audit?limit=100").json["items"] if a["action"] == "sku.codes"]
    assert sorted(e["after"]["added"] for e in entries) == [1, 3] and "TEA-004" not in str(entries)
    other_product, other = voucher(api)
    again = api.merch("POST", f"/admin/skus/{other}/codes", {"codes": ["TEA-001", "COFFEE-1"]}).json
    assert again == {"added": 1, "duplicates": 1, "available": 1}, "a code is sold once in the whole shop"
    restock = api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": 5, "reason": "more"})
    assert (restock.status, list(restock.json["error"]["details"]["fields"])) == (400, ["delta"])
    assert reconcile(services.dynamodb, services.table)[1] == []


@pytest.mark.streams
def test_a_paid_voucher_order_shows_its_codes_to_the_buyer_and_needs_no_address(api, services):
    _, sku = voucher(api, ["MILKTEA-A", "MILKTEA-B", "MILKTEA-C"])
    fan = uid("fan")
    give_points(services, fan, 1000)
    r = buy(api, fan, sku, qty=2)
    assert r.status == 201, r.json
    order = r.json
    codes = {v["code"] for v in order["vouchers"]}
    assert order["status"] == "paid" and len(codes) == 2 and codes <= {"MILKTEA-A", "MILKTEA-B", "MILKTEA-C"}
    assert {v["status"] for v in order["vouchers"]} == {"valid"}
    assert order["lines"][0]["digital"] is True and order["lines"][0]["partner_id"] is None
    assert api.get(f"/orders/{order['order_id']}", user=fan).json["vouchers"] == order["vouchers"]
    assert api.get(f"/orders/{order['order_id']}", user=uid("other")).status == 404
    drain_stream(services)
    assert queued_events(services) == [], "no partner hears of a voucher, let alone its code"
    for partner in services.settings.partners:
        assert api.get(f"/partner/orders/{order['order_id']}", partner=partner).status == 404
    sold = {services.table.get(code_key(c)).get("order_id") for c in codes}
    assert sold == {order["order_id"]}


def test_a_refunded_paid_voucher_order_voids_its_codes_and_an_expired_one_puts_them_back(api, services, clock):
    _, sku = voucher(api, ["GIFT-1", "GIFT-2"], cash=True)
    fan = uid("fan")
    give_points(services, fan, 1000)
    paid = buy(api, fan, sku).json
    code = paid["vouchers"][0]["code"]
    kept = api.post(f"/orders/{paid['order_id']}/cancel", user=fan)
    assert (kept.status, kept.error_code) == (409, "not_cancellable"), "seen the code, kept the money: no"
    refunded = api.merch("POST", f"/admin/orders/{paid['order_id']}/refund", {"reason": "unused, checked"}).json
    assert refunded["status"] == "refunded"
    assert refunded["vouchers"] == [{"sku": sku, "code": "••••••" + code[-3:], "status": "void"}], "staff: masked"
    assert api.get(f"/orders/{paid['order_id']}", user=fan).json["vouchers"] == [
        {"sku": sku, "code": code, "status": "void"}
    ]
    assert services.table.get(code_key(code))["void_at"]
    assert services.catalog._repo.get_sku(sku)["stock"] == 1, "a code that was shown is not sold again"

    pending = buy(api, fan, sku, points=0).json  # cash: waits for payment, its code unseen
    assert (pending["status"], pending["vouchers"]) == ("pending_payment", [])
    assert services.catalog._repo.get_sku(sku)["stock"] == 0
    clock.set("2099-01-01T00:00:00Z")
    assert services.orders.expire_overdue() == 1
    assert services.catalog._repo.get_sku(sku)["stock"] == 1, "back on sale"
    other = uid("fan")
    give_points(services, other, 1000)
    again = buy(api, other, sku).json
    assert [v["code"] for v in again["vouchers"]] != [code]
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_sold_out_vouchers_and_physical_lines_together(api, services):
    _, sku = voucher(api, ["ONLY-ONE"])
    fan = uid("fan")
    give_points(services, fan, 10_000)
    r = buy(api, fan, sku, qty=2)
    assert (r.status, r.error_code) == (409, "insufficient_stock")
    body = product_body(status="active", accepts={"points": True, "cash": False})
    assert api.merch("POST", "/admin/products", body).status == 201
    mixed = {"items": [{"sku": sku, "qty": 1}, {"sku": body["skus"][0]["sku"], "qty": 1}], "points": 200 + 1990}
    no_address = api.post("/orders", mixed, user=fan, headers={"Idempotency-Key": uid("k")})
    assert (no_address.status, no_address.json["error"]["details"]["fields"]) == (400, {"shipping_address": "required"})
    r = api.post("/orders", {**mixed, "shipping_address": ADDRESS}, user=fan, headers={"Idempotency-Key": uid("k")})
    assert r.status == 201 and [v["code"] for v in r.json["vouchers"]] == ["ONLY-ONE"]


@pytest.mark.parametrize(
    "codes, field",
    [
        (["x" * 65], "codes.0"),
        ([f"C{i}" for i in range(1001)], "codes"),
        ([], "codes"),
        (["has space"], "codes.0"),
        (["tab\there"], "codes.0"),
        (["中文"], "codes.0"),
        ([7], "codes.0"),
    ],
)
def test_bad_codes_are_refused_naming_the_field(api, codes, field):
    _, sku = voucher(api)
    r = api.merch("POST", f"/admin/skus/{sku}/codes", {"codes": codes})
    assert (r.status, r.error_code) == (400, "invalid_request")
    assert field in r.json["error"]["details"]["fields"], r.json


def test_codes_belong_to_voucher_skus_only(api):
    body = product_body(status="active")
    assert api.merch("POST", "/admin/products", body).status == 201
    r = api.merch("POST", f"/admin/skus/{body['skus'][0]['sku']}/codes", {"codes": ["X-1"]})
    assert (r.status, r.error_code) == (409, "not_available")
    assert api.merch("POST", "/admin/skus/NO-SUCH-SKU/codes", {"codes": ["X-1"]}).status == 404
    assert api.post("/admin/skus/NO-SUCH-SKU/codes", {"codes": ["X-1"]}, user="fan").status == 403
    stocked = product_body(kind="voucher")
    assert api.merch("POST", "/admin/products", stocked).status == 400, "a voucher's stock is its codes"


def test_at_most_ten_vouchers_per_order(api, services):
    _, sku = voucher(api, [f"V-{i}" for i in range(12)])
    fan = uid("fan")
    give_points(services, fan, 10_000)
    r = buy(api, fan, sku, qty=11)
    assert (r.status, r.json["error"]["details"]["fields"]) == (400, {"items.0.qty": "at most 10 vouchers in all"})


def test_a_products_kind_cannot_change(api):
    product, sku = voucher(api, ["K-1"])
    body = {k: product[k] for k in ("category", "title", "title_zh", "description", "accepts", "images", "tags")}
    r = api.merch(
        "PUT",
        f"/admin/products/{product['product_id']}",
        {**body, "kind": "physical", "skus": [{"sku": sku, "price_fen": 2000}]},
    )
    assert (r.status, list(r.json["error"]["details"]["fields"])) == (400, ["kind"])
    assert (
        api.merch(
            "PUT",
            f"/admin/products/{product['product_id']}",
            {**body, "kind": "voucher", "skus": [{"sku": sku, "price_fen": 3000}]},
        ).status
        == 200
    )


def test_a_refund_after_the_physical_part_shipped_voids_the_codes_too(api, services):
    _, sku = voucher(api, ["MIX-1"])
    body = product_body(status="active", accepts={"points": True, "cash": False})
    assert api.merch("POST", "/admin/products", body).status == 201
    fan = uid("fan")
    give_points(services, fan, 10_000)
    order = api.post(
        "/orders",
        {
            "items": [{"sku": sku, "qty": 1}, {"sku": body["skus"][0]["sku"], "qty": 1}],
            "points": 200 + 1990,
            "shipping_address": ADDRESS,
        },
        user=fan,
        headers={"Idempotency-Key": uid("k")},
    ).json
    shipped = api.post(
        f"/partner/orders/{order['order_id']}/shipments",
        {"carrier": "SF", "tracking_number": "SF1234"},
        partner="warehouse",
    )
    assert shipped.json["status"] == "shipped", shipped.json
    refunded = api.merch("POST", f"/admin/orders/{order['order_id']}/refund", {"reason": "returned"}).json
    assert refunded["status"] == "refunded" and refunded["vouchers"][0]["status"] == "void"
    assert services.table.get(code_key("MIX-1"))["void_at"]
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_a_voucher_sku_with_codes_stays_and_its_product_can_be_sent_back_as_read(api):
    product, sku = voucher(api, ["KEEP-1"])
    got = api.merch("GET", f"/admin/products/{product['product_id']}").json
    body = {
        k: got[k]
        for k in (
            "category",
            "title",
            "title_zh",
            "description",
            "accepts",
            "images",
            "tags",
            "kind",
            "owner_only",
            "skus",
        )
    }
    assert api.merch("PUT", f"/admin/products/{product['product_id']}", body).status == 200, "stock 1 read back"
    r = api.merch(
        "PUT",
        f"/admin/products/{product['product_id']}",
        {**body, "skus": [{"sku": uid("NEW").upper(), "price_fen": 2000}]},
    )
    assert (r.status, list(r.json["error"]["details"]["fields"])) == (400, ["skus"])
    assert api.merch("GET", f"/admin/products/{product['product_id']}").json["skus"][0]["sku"] == sku


def test_a_designed_product_is_not_a_voucher(api):
    from tests.api.test_designs import approve, submit

    design = submit(api, user=uid("designer")).json["design_id"]
    approve(api, design)
    body = product_body(kind="voucher")
    body["skus"][0]["stock"] = 0
    r = api.merch("POST", f"/admin/designs/{design}/product", body)
    assert (r.status, list(r.json["error"]["details"]["fields"])) == (400, ["kind"])


def test_an_old_order_of_a_removed_sku_gives_nothing_to_a_voucher_with_its_id(api, services, clock):
    body = product_body(status="active", category="food", accepts={"points": False, "cash": True})
    body["skus"][0].update(price_fen=2000, stock=5)
    assert api.merch("POST", "/admin/products", body).status == 201
    sku = body["skus"][0]["sku"]
    pending = api.post(
        "/orders",
        {"items": [{"sku": sku, "qty": 3}], "points": 0, "shipping_address": ADDRESS},
        user=uid("fan"),
        headers={"Idempotency-Key": uid("k")},
    ).json
    keep = {k: body[k] for k in ("category", "title", "title_zh", "description", "accepts")}
    assert (
        api.merch(
            "PUT",
            f"/admin/products/{body['product_id']}",
            {**keep, "skus": [{"sku": uid("SKU").upper(), "price_fen": 2000}]},
        ).status
        == 200
    )
    reused = product_body(status="active", kind="voucher", category="food")
    reused["skus"][0].update(sku=sku, price_fen=2000, stock=0)
    assert api.merch("POST", "/admin/products", reused).status == 201, "the SKU id is free again"
    api.merch("POST", f"/admin/skus/{sku}/codes", {"codes": [uid("REAL")]})
    clock.set("2099-01-01T00:00:00Z")
    assert services.orders.expire_overdue() == 1 and pending["status"] == "pending_payment"
    assert services.catalog._repo.get_sku(sku)["stock"] == 1, "the voucher's stock is still its one code"
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_an_upload_that_meets_a_busy_sku_tries_its_chunk_again(api, services, monkeypatch):
    from botocore.exceptions import ClientError

    _, sku = voucher(api)
    client = services.table.client
    real, calls = client.transact_write_items, []

    def busy_once(**kwargs):
        calls.append(1)
        if len(calls) == 2:  # an order held the SKU's stock: cancelled with nothing written
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": [{"Code": "TransactionConflict"}]
                    + [{"Code": "None"}] * (len(kwargs["TransactItems"]) - 1),
                },
                "TransactWriteItems",
            )
        return real(**kwargs)

    monkeypatch.setattr(client, "transact_write_items", busy_once)
    r = api.merch("POST", f"/admin/skus/{sku}/codes", {"codes": [f"{sku}-{i}" for i in range(150)]})
    monkeypatch.undo()
    assert (r.status, r.json) == (200, {"added": 150, "duplicates": 0, "available": 150})
    entries = [
        a
        for a in api.merch("GET", "/admin/audit?limit=100").json["items"]
        if a["entity_id"] == sku and a["action"] == "sku.codes"
    ]
    assert sorted(e["after"]["added"] for e in entries) == [52, 98], "one entry per chunk written"
