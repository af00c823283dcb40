"""Rules that must hold under concurrent requests, through a live `chalice local` on DynamoDB Local."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.helpers import product_body


def test_twenty_concurrent_stock_removals_never_take_stock_below_zero(live_api):
    body = product_body(skus=[{"sku": "CONC-" + product_body()["product_id"], "price_fen": 100, "stock": 10}])
    sku = body["skus"][0]["sku"]
    assert live_api.merch("POST", "/admin/products", body).status == 201

    def remove_one(_: int):
        return live_api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": -1, "reason": "concurrent"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(remove_one, range(20)))
    statuses = sorted(r.status for r in replies)
    assert statuses == [200] * 10 + [409] * 10, [r.json for r in replies if r.status not in (200, 409)]
    assert {r.error_code for r in replies if r.status == 409} == {"insufficient_stock"}
    product = live_api.merch("GET", f"/admin/products/{body['product_id']}").json
    assert product["skus"][0]["stock"] == 0
    # The audit trail tells the same story: ten steps from 10 down to 0, each exactly once.
    entries = [e for e in live_api.merch("GET", "/admin/audit?limit=100").json["items"] if e["entity_id"] == sku]
    assert sorted((e["before"]["stock"], e["after"]["stock"]) for e in entries) == [(n, n - 1) for n in range(1, 11)]


def test_concurrent_mixed_adjustments_add_up_exactly(live_api):
    body = product_body(skus=[{"sku": "MIX-" + product_body()["product_id"], "price_fen": 100, "stock": 5}])
    sku = body["skus"][0]["sku"]
    live_api.merch("POST", "/admin/products", body)
    deltas = [+3, -2] * 10

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(
            pool.map(
                lambda d: live_api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": d, "reason": "mix"}), deltas
            )
        )
    applied = sum(d for d, r in zip(deltas, replies, strict=False) if r.status == 200)
    assert all(r.status in (200, 409) for r in replies)
    assert live_api.merch("GET", f"/admin/products/{body['product_id']}").json["skus"][0]["stock"] == 5 + applied


def test_concurrent_publishes_count_the_product_once(live_api):
    body = product_body(category="models-toys")
    live_api.merch("POST", "/admin/products", body)
    before = {c["id"]: c["product_count"] for c in live_api.get("/categories").json["items"]}["models-toys"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(
            pool.map(lambda _: live_api.merch("POST", f"/admin/products/{body['product_id']}/publish"), range(8))
        )
    assert sorted(r.status for r in replies)[0] == 200
    assert sum(r.status == 200 for r in replies) == 1
    assert all(r.status in (200, 409) for r in replies)
    after = {c["id"]: c["product_count"] for c in live_api.get("/categories").json["items"]}["models-toys"]
    assert after == before + 1
