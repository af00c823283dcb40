"""Limited drops through the HTTP API: a sale start, a per-user limit over all orders, and stock on shard items."""

from __future__ import annotations

import pytest

from chalicelib.adapters.catalog_repo import shard_key
from chalicelib.adapters.dynamo import key
from chalicelib.domain.errors import Conflict
from tests.api.shop import ADDRESS, give_points
from tests.helpers import product_body, uid
from tools.reconcile import reconcile

NOW = "2026-12-01T02:00:00Z"


@pytest.fixture(autouse=True)
def pinned(clock):
    clock.set(NOW)
    return clock


def drop(api, stock=10, shards=1, **product):
    body = product_body(status="active", accepts={"points": True, "cash": False}, **product)
    body["skus"][0].update(price_fen=1000, stock=stock, stock_shards=shards)
    r = api.merch("POST", "/admin/products", body)
    assert r.status == 201, r.json
    return r.json


def buy(api, user, sku, qty=1, key=None):
    return api.post(
        "/orders",
        {"items": [{"sku": sku, "qty": qty}], "points": 100 * qty, "shipping_address": ADDRESS},
        user=user,
        headers={"Idempotency-Key": key or uid("drop-key")},
    )


def listed_stock(api, product_id):
    return api.get(f"/products/{product_id}").json["skus"][0]["stock"]


def test_a_drop_is_shown_before_it_starts_and_sold_from_its_start(api, services, pinned):
    product = drop(api, sale_starts_at="2026-12-12T20:00:00+08:00")
    sku = product["skus"][0]["sku"]
    shown = api.get(f"/products/{product['product_id']}").json
    assert shown["sale_starts_at"] == "2026-12-12T12:00:00.000Z"
    fan = uid("fan")
    give_points(services, fan, 1000)
    early = buy(api, fan, sku)
    assert (early.status, early.error_code) == (409, "not_yet_on_sale")
    assert early.json["error"]["details"]["sale_starts_at"] == "2026-12-12T12:00:00.000Z"
    quote = api.post(
        "/orders/quote", {"items": [{"sku": sku, "qty": 1}], "points": 100, "shipping_address": ADDRESS}, user=fan
    )
    assert quote.error_code == "not_yet_on_sale"
    pinned.set("2026-12-12T12:00:00Z")
    assert buy(api, fan, sku).status == 201
    assert listed_stock(api, product["product_id"]) == 9


def test_a_per_user_limit_counts_every_order_and_a_cancel_gives_it_back(api, services):
    product = drop(api, per_user_limit=2)
    sku = product["skus"][0]["sku"]
    assert api.get(f"/products/{product['product_id']}").json["per_user_limit"] == 2
    fan = uid("fan")
    give_points(services, fan, 1000)
    too_many = buy(api, fan, sku, qty=3)
    assert (too_many.status, too_many.error_code) == (409, "purchase_limit")
    assert too_many.json["error"]["details"] == {"product_id": product["product_id"], "limit": 2, "requested": 3}
    first = buy(api, fan, sku)
    assert first.status == 201 and buy(api, fan, sku).status == 201
    third = buy(api, fan, sku)
    assert (third.status, third.error_code) == (409, "purchase_limit")
    assert third.json["error"]["details"] == {"product_id": product["product_id"], "limit": 2, "bought": 2}
    assert api.post(f"/orders/{first.json['order_id']}/cancel", user=fan).status == 200
    assert buy(api, fan, sku).status == 201, "a cancelled order no longer counts"
    other = uid("fan")
    give_points(services, other, 1000)
    assert buy(api, other, sku, qty=2).status == 201, "the limit is per person"
    assert listed_stock(api, product["product_id"]) == 6


def test_a_limit_spans_the_products_skus(api, services):
    body = product_body(status="active", accepts={"points": True, "cash": False}, per_user_limit=2)
    body["skus"] = [
        {"sku": uid("A").upper(), "price_fen": 1000, "stock": 5},
        {"sku": uid("B").upper(), "price_fen": 1000, "stock": 5},
    ]
    assert api.merch("POST", "/admin/products", body).status == 201
    fan = uid("fan")
    give_points(services, fan, 1000)
    both = api.post(
        "/orders",
        {"items": [{"sku": s["sku"], "qty": 1} for s in body["skus"]], "points": 200, "shipping_address": ADDRESS},
        user=fan,
        headers={"Idempotency-Key": uid("k")},
    )
    assert both.status == 201
    assert buy(api, fan, body["skus"][0]["sku"]).error_code == "purchase_limit"


def test_stock_on_shards_is_listed_as_its_exact_sum_and_restocked_evenly(api, services):
    product = drop(api, stock=40, shards=16)
    sku, pid = product["skus"][0]["sku"], product["product_id"]
    assert (product["skus"][0]["stock"], product["skus"][0]["stock_shards"]) == (40, 16)
    shards = [services.table.get(shard_key(sku, i))["stock"] for i in range(16)]
    assert shards == [3] * 8 + [2] * 8
    fan = uid("fan")
    give_points(services, fan, 1000)
    assert buy(api, fan, sku, qty=3).status == 201
    assert listed_stock(api, pid) == 37
    r = api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": 11, "reason": "restock"})
    assert (r.status, r.json["stock"]) == (200, 48)
    after = [services.table.get(shard_key(sku, i))["stock"] for i in range(16)]
    assert sum(after) == 48 and max(after) - min(after) <= 1, after
    entry = next(
        a
        for a in api.merch("GET", "/admin/audit?limit=100").json["items"]  # one pinned time: any order
        if a["action"] == "sku.stock" and a["entity_id"] == sku
    )
    assert (entry["before"]["stock"], entry["after"]["stock"], entry["after"]["shards"]) == (37, 48, after)
    too_far = api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": -49, "reason": "count"})
    assert (too_far.status, too_far.error_code) == (409, "insufficient_stock")
    assert api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": -48, "reason": "recall"}).json["stock"] == 0
    assert all(services.table.get(shard_key(sku, i))["stock"] == 0 for i in range(16))
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_changing_a_skus_shards_keeps_its_stock_and_an_older_order_gives_back_to_the_new_ones(api, services):
    product = drop(api, stock=40, shards=16)
    sku, pid = product["skus"][0]["sku"], product["product_id"]
    fan = uid("fan")
    give_points(services, fan, 1000)
    order = buy(api, fan, sku, qty=2).json
    body = {k: product[k] for k in ("category", "title", "title_zh", "description", "accepts", "images", "tags")}
    body["skus"] = [{"sku": sku, "price_fen": 1000, "stock_shards": 4}]
    r = api.merch("PUT", f"/admin/products/{pid}", body)
    assert r.status == 200, r.json
    assert (r.json["skus"][0]["stock"], r.json["skus"][0]["stock_shards"]) == (38, 4)
    assert services.table.get(shard_key(sku, 4)) is None, "shards past the new count are gone"
    assert api.post(f"/orders/{order['order_id']}/cancel", user=fan).status == 200
    assert listed_stock(api, pid) == 40
    body["skus"][0]["stock_shards"] = 1
    assert api.merch("PUT", f"/admin/products/{pid}", body).json["skus"][0]["stock"] == 40
    assert services.table.get(shard_key(sku, 0)) is None
    assert buy(api, fan, sku).status == 201 and listed_stock(api, pid) == 39


@pytest.mark.parametrize(
    "over, field",
    [
        ({"per_user_limit": 0}, "per_user_limit"),
        ({"per_user_limit": 1000}, "per_user_limit"),
        ({"sale_starts_at": "2026-12-12T20:00:00"}, "sale_starts_at"),
        ({"sale_starts_at": "soon"}, "sale_starts_at"),
    ],
)
def test_bad_drop_settings_are_refused_naming_the_field(api, over, field):
    r = api.merch("POST", "/admin/products", product_body(**over))
    assert (r.status, r.error_code) == (400, "invalid_request")
    assert field in r.json["error"]["details"]["fields"], r.json


@pytest.mark.parametrize("shards", [0, 33, "4"])
def test_bad_stock_shards_are_refused(api, shards):
    body = product_body()
    body["skus"][0]["stock_shards"] = shards
    r = api.merch("POST", "/admin/products", body)
    assert (r.status, r.error_code) == (400, "invalid_request")
    assert "skus.0.stock_shards" in r.json["error"]["details"]["fields"]


def test_a_new_shard_count_that_raced_an_order_is_a_conflict_and_writes_nothing(api, services):
    product = drop(api, stock=40, shards=4)
    sku, pid = product["skus"][0]["sku"], product["product_id"]
    before = services.catalog._repo.get_product(pid)
    fan = uid("fan")
    give_points(services, fan, 1000)
    assert buy(api, fan, sku).status == 201  # one unit off one shard after `before` was read
    after = {**before, "skus": [{**before["skus"][0], "stock_shards": 8}]}
    with pytest.raises(Conflict):
        services.catalog._repo.replace(before, after, lambda tx: None)
    assert services.table.get(shard_key(sku, 4)) is None, "no new shard written"
    assert services.table.get(key(f"SKU#{sku}", "META"))["stock_shards"] == 4
    assert listed_stock(api, pid) == 39


def put(api, product, shards=1, **extra):
    body = {k: product[k] for k in ("category", "title", "title_zh", "description", "accepts", "images", "tags")}
    body["skus"] = [{"sku": product["skus"][0]["sku"], "price_fen": 1000, "stock_shards": shards}]
    return api.merch("PUT", f"/admin/products/{product['product_id']}", {**body, **extra})


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+01:00"])
def test_a_sale_start_past_the_calendar_is_a_400(api, when):
    r = api.merch("POST", "/admin/products", product_body(sale_starts_at=when))
    assert (r.status, r.error_code) == (400, "invalid_request")
    assert "sale_starts_at" in r.json["error"]["details"]["fields"]


def test_a_cancel_racing_a_new_shard_count_gives_back_where_orders_can_take(api, services, monkeypatch):
    product = drop(api, stock=10)
    sku = product["skus"][0]["sku"]
    fan = uid("fan")
    give_points(services, fan, 10_000)
    order = buy(api, fan, sku, qty=2).json
    repo, raced = services.order_repo, []
    original = repo.give_back_stock

    def give_back_then_reshard(tx, lines, shards=None):
        original(tx, lines, shards)  # planned on the SKU item while it has one shard
        if not raced:
            raced.append(put(api, product, shards=4).status)  # the merchandiser's change commits first

    monkeypatch.setattr(repo, "give_back_stock", give_back_then_reshard)
    assert api.post(f"/orders/{order['order_id']}/cancel", user=fan).status == 200
    assert raced == [200]
    assert services.table.get(key(f"SKU#{sku}", "META"))["stock"] == 0, "nothing stranded on the SKU item"
    assert listed_stock(api, product["product_id"]) == 10
    buyer = uid("fan")
    give_points(services, buyer, 10_000)
    assert buy(api, buyer, sku, qty=10).status == 201, "every unit listed can be sold"


def test_a_restock_racing_a_new_shard_count_lands_where_orders_take(api, services, monkeypatch):
    product = drop(api, stock=0)
    sku = product["skus"][0]["sku"]
    repo, raced = services.catalog._repo, []
    original = repo.set_stock

    def reshard_then_set(*args):
        if not raced:
            raced.append(put(api, product, shards=4).status)  # between the restock's read and its write
        return original(*args)

    monkeypatch.setattr(repo, "set_stock", reshard_then_set)
    r = api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": 5, "reason": "restock"})
    assert (r.status, r.json["stock"], raced) == (200, 5, [200])
    assert services.table.get(key(f"SKU#{sku}", "META"))["stock"] == 0
    assert sum(services.table.get(shard_key(sku, i))["stock"] for i in range(4)) == 5
    assert api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": -5, "reason": "recall"}).json["stock"] == 0


def test_a_limit_is_added_or_lowered_only_before_anything_could_sell(api, services, pinned):
    live = drop(api, stock=20, per_user_limit=5)
    fan = uid("fan")
    give_points(services, fan, 10_000)
    assert buy(api, fan, live["skus"][0]["sku"], qty=3).status == 201
    for tighter in (2, 4):
        r = put(api, live, per_user_limit=tighter)
        assert (r.status, list(r.json["error"]["details"]["fields"])) == (400, ["per_user_limit"])
    assert put(api, live, per_user_limit=6).status == 200, "raising it is fine"
    assert put(api, live).status == 200, "and so is removing it"
    assert put(api, live, per_user_limit=9).status == 400, "but not adding one back: orders in between were not counted"
    draft = api.merch("POST", "/admin/products", product_body()).json
    assert put(api, draft, per_user_limit=1).status == 200, "a draft was never on sale"
    upcoming = drop(api, sale_starts_at="2026-12-12T20:00:00+08:00")
    assert put(api, upcoming, per_user_limit=1, sale_starts_at="2026-12-12T20:00:00+08:00").status == 200


def test_a_quote_says_what_the_order_would(api, services):
    sold_out = drop(api, stock=0, shards=4)["skus"][0]["sku"]
    limited = drop(api, per_user_limit=2)["skus"][0]["sku"]
    fan = uid("fan")
    give_points(services, fan, 10_000)
    assert buy(api, fan, limited, qty=2).status == 201

    def quote(sku):
        return api.post(
            "/orders/quote", {"items": [{"sku": sku, "qty": 1}], "points": 100, "shipping_address": ADDRESS}, user=fan
        )

    assert (quote(sold_out).error_code, buy(api, fan, sold_out).error_code) == ("insufficient_stock",) * 2
    assert (quote(limited).error_code, buy(api, fan, limited).error_code) == ("purchase_limit",) * 2
