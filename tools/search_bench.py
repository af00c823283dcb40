"""`make bench`'s discovery figures, on a DynamoDB Local of its own for each catalog size (64 and 5,000 products):

- every measured query's DynamoDB calls against the formula in docs/api.md (`rules.calls_formula`), checked;
- its latency through the handler (GET /products/search in process) against the same calls made again with raw
  boto3 on the same table (the floor), p50 and p95;
- after a product edit, how long until the search finds it (the local stream poller feeding `index_catalog`).

The 5,000-product catalog is the demo catalog plus generated products (titles from a vocabulary in both languages,
1-3 SKUs, random prices and payment ways), written straight to the table and indexed at once
(`SearchIndexer.load`): what matters here is the reading side."""

from __future__ import annotations

import json
import random
import time
from typing import Any
from urllib.parse import quote

from botocore import xform_name

from chalicelib import bootstrap
from chalicelib.adapters.catalog_repo import CatalogRepository, _product_item, _sku_item
from chalicelib.adapters.dynamo import to_item
from chalicelib.adapters.search_repo import SearchRepository
from chalicelib.bootstrap import Container
from chalicelib.domain import search as rules
from tools import catalog
from tools.burst_floor import against_floor_ms, bench_store
from tools.reindex import reindex
from tools.streams import StreamPoller

QUERIES = ["伞", "记录仪", "UMBR", "xks", "dash camera", "CAR-DASHCAM-2K", "行李", "coffee"]
LISTING = "/products?sort=points_asc&pay=points&limit=20"
ENGLISH = (
    "aero alpine amber arc aurora basalt beacon birch blaze bolt canyon cedar cloud comet coral crest delta drift "
    "dune echo ember fern field flint forest frost glacier grove harbor haze horizon island jade juniper lagoon lake "
    "lunar maple meadow mesa mist moss nebula north oak ocean orbit pebble pine polar prairie quartz rain reef ridge "
    "river sage shore sierra sky slate solar spruce star stone storm summit tide timber trail tundra valley vista "
    "wave willow wind"
).split()
NOUNS = "mug bottle jacket cap scarf lamp cushion blanket kettle charger cable tray bag tote pen notebook".split()
CHINESE = (
    "星空 山谷 海风 极光 森林 湖畔 云端 雪峰 晨曦 夜航 远行 城市 草原 沙丘 潮汐 银河 月光 北境 南岛 暖阳 "
    "杯 壶 灯 毯 包 帽 围巾 靠垫 背包 水杯 充电器 数据线 托盘 笔记本"
).split()


def generated(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """`n` products as the catalog stores them (status active, in the eight categories)."""
    rng = random.Random(seed)
    categories = list(rules.CATEGORIES)
    out = []
    for i in range(n):
        words = rng.sample(ENGLISH, 2) + [rng.choice(NOUNS)]
        pid = f"gen-{i:05d}"
        now = f"2026-{1 + i % 11:02d}-{1 + i % 27:02d}T{i % 24:02d}:00:00Z"
        skus = [
            {"sku": f"GEN-{i:05d}-{k}", "attributes": {}, "price_fen": rng.randrange(100, 200_000) * 10, "stock": 50}
            for k in range(rng.randint(1, 3))
        ]
        points, cash = rng.choice(((True, True), (True, False), (False, True)))
        out.append(
            {
                "product_id": pid,
                "category": rng.choice(categories),
                "title": " ".join(w.capitalize() for w in words),
                "title_zh": rng.choice(CHINESE[:20]) + rng.choice(CHINESE[20:]),
                "description": f"{rng.choice(ENGLISH)} and {rng.choice(ENGLISH)}, made to last.",
                "status": "active",
                "kind": "physical",
                "owner_only": rng.random() < 0.1,
                "accepts": {"points": points, "cash": cash},
                "skus": skus,
                "images": [],
                "tags": [rng.choice(NOUNS)],
                "created_at": now,
                "updated_at": now,
                "published_at": now,
                "version": 1,
            }
        )
    return out


def write_products(services: Container, products: list[dict[str, Any]]) -> None:
    items = []
    for p in products:
        items.append({**_product_item(p), "version": 1})
        items += [_sku_item(p, s) for s in p["skus"]]
    SearchRepository(services.table)._batch_write([{"PutRequest": {"Item": to_item(i)}} for i in items])


def measure(services: Container, n: int) -> dict[str, Any]:
    """Each query's calls against the formula, then `n` rounds of every query: handler against floor."""
    from chalice.test import Client

    from app import app
    from tools.bench import Recorder

    bootstrap.use(services)
    http = Client(app, stage_name="local").http
    recorder = Recorder(services.dynamodb)
    raw = services.boto_session.client("dynamodb", endpoint_url=services.settings.dynamodb_endpoint)
    paths = [f"/products/search?q={quote(q)}" for q in QUERIES] + [LISTING]
    http.request("GET", paths[0])  # warm: models built, synonyms read (then once a minute)
    calls: dict[str, Any] = {}
    for q, path in zip([*QUERIES, "listing"], paths, strict=True):
        recorder.calls.clear()
        reply = http.request("GET", path)
        if reply.status_code != 200:
            raise SystemExit(f"search bench: {path} answered {reply.status_code}")
        items = json.loads(reply.body)["items"]
        sharded = any(s["stock_shards"] > 1 for p in items for s in p["skus"])
        made = len(recorder.calls)
        if q == "listing":
            expected = 1 + 2 * bool(items) + sharded  # the `*` token, products, SKUs (shards)
        else:
            expected = rules.calls_formula(rules.plan(q), "relevance", bool(items)) + sharded
        calls[q] = {
            "calls": made,
            "formula": expected,
            "results": len(items),
            "first": items[0]["product_id"] if items else None,
        }
        if made != expected:
            raise SystemExit(f"search bench: {q!r} made {made} DynamoDB calls, the formula says {expected}")
    recorder.calls.clear()
    home = http.request("GET", "/home")
    calls["home"] = {"calls": len(recorder.calls), "ops": sorted(op for _, op, _ in recorder.calls)}
    recorder.calls.clear()
    again = http.request("GET", "/home", headers={"If-None-Match": home.headers["ETag"]})
    calls["home_etag"] = {"calls": len(recorder.calls), "status": again.status_code}
    timings: dict[str, tuple[list[float], list[float]]] = {"search": ([], []), "listing": ([], [])}
    for _ in range(n):
        for path in paths:
            handler, floor = timings["listing" if path == LISTING else "search"]
            recorder.calls.clear()
            started = time.perf_counter()
            http.request("GET", path)
            handler.append(time.perf_counter() - started)
            made = list(recorder.calls)
            started = time.perf_counter()
            for _service, op, params in made:  # botocore adds a transaction's token in place: it makes a new one
                getattr(raw, xform_name(op))(**{k: v for k, v in params.items() if k != "ClientRequestToken"})
            floor.append(time.perf_counter() - started)
    bootstrap.use(None)
    result: dict[str, Any] = {"calls": calls}
    for name, (handler, floor) in timings.items():
        result[name] = against_floor_ms(handler, floor)
    return result


def hot_items(services: Container, searches: int = 320, orders: int = 400) -> dict[str, Any]:
    """The busiest item's share of the writes when everyone searches one query (its counters over 16 shards) and
    when a bestseller sells `orders` times at once (its units over 8 shard partitions a day), from the writes made."""
    from collections import Counter
    from concurrent.futures import ThreadPoolExecutor

    from chalice.test import Client

    from app import app
    from tools.bench import Recorder

    bootstrap.use(services)
    http = Client(app, stage_name="local").http
    recorder = Recorder(services.dynamodb)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: http.request("GET", "/products/search?q=%E4%BC%9E"), range(searches)))
    stats = Counter(json.dumps(params["Key"], sort_keys=True) for _, op, params in recorder.calls if op == "UpdateItem")
    recorder.calls.clear()
    day = "2026-12-06T04:00:00.000Z"
    sale = {"lines": [{"product_id": "travel-starry-umbrella", "qty": 1}], "updated_at": day, "status": "paid"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: services.search_indexer.count_sale({**sale, "order_id": f"o-{n:012x}"}), range(orders)))
    units = Counter(
        op["Update"]["Key"]["pk"]["S"]
        for _, name, params in recorder.calls
        if name == "TransactWriteItems"
        for op in params["TransactItems"]
        if "Update" in op
    )
    bootstrap.use(None)
    return {
        "search_count_writes": sum(stats.values()),
        "search_count_busiest_share": round(max(stats.values()) / sum(stats.values()), 3),
        "search_count_shards_used": len(stats),
        "bestseller_unit_writes": sum(units.values()),
        "bestseller_busiest_share": round(max(units.values()) / sum(units.values()), 3),
        "bestseller_shards_used": len(units),
    }


def index_lag(services: Container) -> float:
    """Seconds from a product's title edit to the search finding the new title, the stream polled continuously."""
    from chalicelib import workers
    from chalicelib.domain.catalog import ProductUpdate

    streams = services.boto_session.client("dynamodbstreams", endpoint_url=services.settings.dynamodb_endpoint)
    poller = StreamPoller(
        services.dynamodb,
        streams,
        services.settings.store_table,
        lambda records: workers.index_catalog(records, services.search_indexer, services.reviews),
    )
    while poller.poll():  # what seeding left on the stream
        pass
    product = CatalogRepository(services.table).get_product("travel-starry-umbrella")
    assert product is not None
    body = {k: product[k] for k in ("category", "title", "title_zh", "description", "images", "tags", "accepts")}
    body["skus"] = [{k: s[k] for k in ("sku", "attributes", "price_fen", "stock")} for s in product["skus"]]
    body["title"] = "Nebulous Umbrella"
    started = time.perf_counter()
    services.catalog.update("bench", "travel-starry-umbrella", ProductUpdate.model_validate(body))
    query = rules.SearchQuery(q="nebulous")
    while not services.search.search(query, None).items:
        poller.poll()
        if time.perf_counter() - started > 30:
            raise SystemExit("search bench: the edited product was not found within 30 s")
    return time.perf_counter() - started


def run(endpoints_for: Any, n: int) -> dict[str, Any]:
    """Both sizes, each on a DynamoDB Local of its own (`endpoints_for()` is a context manager giving one)."""
    demo = catalog.load()
    out: dict[str, Any] = {}
    for size in (64, 5_000):
        with endpoints_for() as endpoints:
            services = bench_store(endpoints, f"bench-s{size}", streams=size == 64)
            kept = [p for p in demo if p.status == "active"][:64]
            keep = {"travel-starry-umbrella", "car-dual-dashcam"}
            kept = [p for p in kept if p.product_id not in keep][: 64 - len(keep)] + [
                p for p in demo if p.product_id in keep
            ]
            catalog.seed(services.catalog, kept)
            if size > 64:
                write_products(services, generated(size - len(kept)))
            started = time.perf_counter()
            indexed = reindex(services)
            seconds = time.perf_counter() - started
            result = measure(services, n)
            result["products"] = indexed
            result["index_all_s"] = round(seconds, 1)
            if size == 64:
                result["index_lag_s"] = round(index_lag(services), 2)
                result["hot_items"] = hot_items(services)
            out[str(size)] = result
    return out


if __name__ == "__main__":  # the discovery figures alone: python -m tools.search_bench
    import os

    from tools import burst_floor, localstack

    os.environ.update(localstack.LOCAL_CREDENTIALS)
    figures = run(lambda: burst_floor.fresh_dynamodb("http://127.0.0.1:9"), int(os.environ.get("BENCH_N", "20")))
    print(json.dumps(figures, indent=1, ensure_ascii=False))
