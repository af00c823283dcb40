"""Drops under a crowd, through a live `chalice local` on DynamoDB Local: no unit sold twice, no shard below zero,
and a per-user limit that concurrent orders cannot get round."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.adapters.catalog_repo import shard_key
from tests.api.shop import ADDRESS
from tests.helpers import product_body, uid
from tools.reconcile import reconcile


def parallel(n: int, call):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def drop(live_api, stock: int, shards: int = 1, **product) -> str:
    body = product_body(status="active", accepts={"points": False, "cash": True}, **product)
    body["skus"][0].update(price_fen=19900, stock=stock, stock_shards=shards)
    r = live_api.merch("POST", "/admin/products", body)
    assert r.status == 201, r.json
    return body["skus"][0]["sku"]


def order(live_api, user: str, sku: str, key: str):
    return live_api.post(
        "/orders",
        {"items": [{"sku": sku, "qty": 1}], "points": 0, "shipping_address": ADDRESS},
        user=user,
        headers={"Idempotency-Key": key},
    )


def test_sixty_four_buyers_on_sixteen_shards_get_exactly_the_forty_units(live_api, live_server):
    sku = drop(live_api, stock=40, shards=16)
    replies = parallel(64, lambda i: order(live_api, uid("buyer"), sku, uid("drop")))
    assert sorted(r.status for r in replies) == [201] * 40 + [409] * 24, [r.json for r in replies if r.status >= 500]
    assert {r.error_code for r in replies if r.status == 409} == {"insufficient_stock"}
    services = live_server["container"]
    shards = [services.table.get(shard_key(sku, i))["stock"] for i in range(16)]
    assert shards == [0] * 16, "every unit sold once, no shard below zero"
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_one_buyer_sending_six_orders_at_once_gets_the_limit_of_two(live_api):
    sku = drop(live_api, stock=50, per_user_limit=2)
    me = uid("eager")
    replies = parallel(6, lambda i: order(live_api, me, sku, f"eager-{me}-{i}"))
    assert sorted(r.status for r in replies) == [201] * 2 + [409] * 4, [r.json for r in replies]
    assert {r.error_code for r in replies if r.status == 409} == {"purchase_limit"}
    assert len(live_api.get("/me/orders", user=me).json["items"]) == 2
