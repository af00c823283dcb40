"""Shoppers search the catalog and sort it; merchandisers set synonyms and read what was searched."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from chalicelib import bootstrap, workers
from tests.api.shop import ADDRESS, drain_stream, give_points, make_owner, place
from tests.conftest import ROOT, _in_process, make_container
from tests.helpers import ApiClient, Tokens, uid
from tools import catalog as catalog_files
from tools.reindex import reindex


def _seeded(services):
    catalog_files.seed(services.catalog, catalog_files.load())
    assert reindex(services) > 60
    return services


@pytest.fixture
def shop(services):
    """The demo catalog (`make run`'s), indexed, on this test's own tables (for a test that changes it)."""
    return _seeded(services)


@pytest.fixture(scope="module")
def indexed(endpoints):
    """The demo catalog, indexed once for the tests that only read it."""
    return _seeded(make_container(endpoints))


@pytest.fixture
def reader(indexed):
    from chalice.test import Client

    from app import app

    bootstrap.use(indexed)
    client = Client(app, stage_name="local", project_dir=str(ROOT))
    yield ApiClient(_in_process(client), Tokens(indexed.settings.local_jwt_secret))
    bootstrap.use(None)


def ids(reply) -> list[str]:
    assert reply.status == 200, reply.json
    return [p["product_id"] for p in reply.json["items"]]


def search(api, q: str, extra: str = "", **kw):
    return api.get(f"/products/search?q={quote(q)}{extra}", **kw)


@pytest.mark.parametrize(
    "q, first",
    [
        ("伞", "travel-starry-umbrella"),
        ("记录仪", "car-dual-dashcam"),
        ("UMBR", "travel-starry-umbrella"),
        ("xks", "travel-starry-umbrella"),
        ("xingkong", "travel-starry-umbrella"),
        ("jiluyi", "car-dual-dashcam"),
        ("CAR-DASHCAM-2K", "car-dual-dashcam"),
        ("dash camera", "car-dual-dashcam"),
    ],
)
def test_a_shopper_finds_a_product_by_any_part_of_its_name_in_chinese_english_or_pinyin(indexed, reader, q, first):
    found = ids(search(reader, q))
    assert found and found[0] == first


def test_an_exact_title_comes_first_and_every_result_is_an_active_product_with_a_rating(indexed, reader):
    r = search(reader, "Starry Sky Umbrella")
    assert ids(r)[0] == "travel-starry-umbrella"
    item = r.json["items"][0]
    assert item["status"] == "active" and item["rating"] == {"average": None, "count": 0}
    assert "eligible" not in item or item["eligible"] is None
    assert item["skus"][0]["points_price"] == 1290


def test_a_synonym_set_by_a_merchandiser_finds_what_its_group_finds_and_is_audited(shop, api):
    assert ids(search(api, "雨伞")) == []
    body = {"groups": [["雨伞", "umbrella"], ["brolly", "umbrella"]]}
    assert api.put("/admin/search/synonyms", body, user=uid("fan")).status == 403
    r = api.merch("PUT", "/admin/search/synonyms", body)
    assert r.status == 200, r.json
    assert ids(search(api, "雨伞"))[0] == "travel-starry-umbrella"
    assert ids(search(api, "brolly"))[0] == "travel-starry-umbrella"
    assert api.merch("GET", "/admin/search/synonyms").json == body
    audit = api.merch("GET", "/admin/audit?limit=5").json["items"]
    assert audit[0]["action"] == "search.synonyms" and audit[0]["after"] == body
    bad = api.merch("PUT", "/admin/search/synonyms", {"groups": [["umbrella", "UMBRELLA"]]})
    assert bad.status == 400 and "groups" in bad.json["error"]["details"]["fields"]


def test_sorting_by_points_with_pay_points_pages_through_every_match_once(indexed, reader):
    seen, cursor, prices = [], None, []
    while True:
        r = reader.get("/products?sort=points_asc&pay=points&limit=7" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status == 200, r.json
        for item in r.json["items"]:
            assert item["accepts"]["points"] is True
            prices.append(min(s["points_price"] for s in item["skus"]))
        seen += ids(r)
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    payable = [p for p in catalog_files.load() if p.status == "active" and p.accepts.points]
    assert sorted(seen) == sorted(p.product_id for p in payable)
    assert prices == sorted(prices) and len(seen) == len(set(seen))
    desc = reader.get("/products?sort=points_desc&category=tech&limit=50").json["items"]
    highs = [min(s["points_price"] for s in p["skus"]) for p in desc]
    assert highs == sorted(highs, reverse=True) and {p["category"] for p in desc} == {"tech"}


def test_a_query_that_matches_everything_pages(indexed, reader):
    r = search(reader, "co", "&limit=5")
    assert len(ids(r)) == 5 and r.json["next_cursor"]
    second = search(reader, "co", f"&limit=5&cursor={r.json['next_cursor']}")
    assert set(ids(second)).isdisjoint(ids(r))


def test_a_cursor_is_only_good_for_the_search_it_came_from(indexed, reader):
    cursor = search(reader, "s", "&limit=2").json["next_cursor"]
    for other in (search(reader, "e", f"&limit=2&cursor={cursor}"), search(reader, "s", f"&sort=new&cursor={cursor}")):
        assert other.status == 400 and other.json["error"]["details"]["fields"] == {"cursor": "invalid cursor"}
    forged = search(reader, "s", "&cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert forged.status == 400


@pytest.mark.parametrize(
    "query, field",
    [
        ("q=", "q"),
        ("q=" + "x" * 65, "q"),
        ("q=%21%21%3F", "q"),  # only punctuation
        ("q=%F0%9F%8C%82", "q"),  # an emoji
        ("q=a%00b", "q"),
        ("q=a&sort=cheapest", "sort"),
        ("q=a&pay=card", "pay"),
        ("q=a&limit=51", "limit"),
        ("q=a&colour=red", "colour"),  # an unknown parameter (a typo, or a cache-buster)
        ("", "q"),
    ],
)
def test_a_bad_query_is_400_naming_the_field(indexed, reader, query, field):
    r = reader.get(f"/products/search?{query}")
    assert r.status == 400, r.json
    assert field in r.json["error"]["details"]["fields"]


def test_sql_or_regex_syntax_is_just_text(indexed, reader):
    for q in ("' OR 1=1 --", ".*", "umbrella)|(.*"):
        assert search(reader, q).status in (200, 400)
    assert ids(search(reader, "umbrella)|("))[0] == "travel-starry-umbrella"


def test_with_a_token_each_item_says_whether_the_caller_may_buy_it(indexed, reader):
    fan, owner = uid("fan"), uid("owner")
    make_owner(indexed, owner)
    for user, expected in ((fan, False), (owner, True)):
        r = reader.get("/products/search?q=mats", user=user)
        mats = next(i for i in r.json["items"] if i["product_id"] == "car-floor-mats")
        assert mats["eligible"] is expected
        assert r.headers["Cache-Control"].startswith("private") and r.headers["Vary"] == "Authorization"
    public = reader.get("/products/search?q=mats")
    assert public.headers["Cache-Control"].startswith("public")
    again = reader.get("/products/search?q=mats", user=owner, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status == 304 and again.headers["Vary"] == "Authorization"
    assert reader.get("/products/search?q=mats", headers={"Authorization": "Bearer nonsense"}).status == 401


def test_in_stock_leaves_out_what_is_sold_out(shop, api):
    r = api.merch("POST", "/admin/skus/TRV-UMB-NAVY/stock", {"delta": -150, "reason": "water damage"})
    assert r.status == 200, r.json
    assert "travel-starry-umbrella" in ids(search(api, "umbrella"))
    assert "travel-starry-umbrella" not in ids(search(api, "umbrella", "&in_stock=true"))


def test_searches_are_counted_for_merchandisers_with_the_ones_that_found_nothing(shop, api):
    for q in ("伞", "伞", "UMBRELLA", "zzzq"):
        search(api, q)
    search(api, "a", "&limit=1")
    cursor = search(api, "a", "&limit=1").json["next_cursor"]
    search(api, "a", f"&limit=1&cursor={cursor}")  # a next page is not another search
    r = api.merch("GET", "/admin/search/stats?days=1")
    assert r.status == 200, r.json
    top = {t["q"]: t["count"] for t in r.json["top"]}
    assert top == {"伞": 2, "umbrella": 1, "zzzq": 1, "a": 2}
    assert r.json["zero_results"] == [{"q": "zzzq", "count": 1}]
    assert r.json["searches"] == 6 and r.json["complete"] is True
    assert api.get("/admin/search/stats", user=uid("fan")).status == 403
    assert api.merch("GET", "/admin/search/stats?days=91").status == 400


@pytest.mark.streams
def test_a_published_edited_or_archived_product_is_found_or_gone_once_the_stream_is_read(services, api):
    product = {
        "product_id": uid("lamp"),
        "category": "home",
        "title": "Moon Lamp",
        "title_zh": "月球灯",
        "status": "draft",
        "skus": [{"sku": uid("LAMP").upper(), "price_fen": 19900, "stock": 5}],
    }
    assert api.merch("POST", "/admin/products", product).status == 201
    drain_stream(services)
    assert ids(search(api, "月球")) == []  # a draft is not for sale
    assert api.merch("POST", f"/admin/products/{product['product_id']}/publish").status == 200
    drain_stream(services)
    assert ids(search(api, "月球")) == [product["product_id"]]
    edited = {k: v for k, v in product.items() if k not in ("product_id", "status")}
    edited |= {"title": "Tide Lamp", "title_zh": "潮汐灯"}
    assert api.merch("PUT", f"/admin/products/{product['product_id']}", edited).status == 200
    drain_stream(services)
    assert ids(search(api, "月球")) == [] and ids(search(api, "chaoxi")) == [product["product_id"]]
    assert api.merch("POST", f"/admin/products/{product['product_id']}/archive").status == 200
    drain_stream(services)
    assert ids(search(api, "tide")) == [] and ids(api.get("/products?sort=new")) == []


@pytest.mark.streams
def test_popular_is_units_sold_in_the_last_30_days_counted_once_from_the_stream(services, api, clock):
    clock.set("2026-12-01T04:00:00Z")
    skus = {}
    for name in ("tea", "mug", "cap"):
        product = {
            "product_id": uid(name),
            "category": "food",
            "title": f"{name} thing",
            "title_zh": "好物",
            "status": "active",
            "skus": [{"sku": uid(name.upper()).upper(), "price_fen": 1000, "stock": 100}],
        }
        assert api.merch("POST", "/admin/products", product).status == 201
        skus[name] = (product["product_id"], product["skus"][0]["sku"])
    buyer = uid("buyer")
    give_points(services, buyer, 10_000)
    placed = {}
    for name, qty in (("mug", 2), ("tea", 5), ("mug", 1), ("cap", 4)):
        body = {"items": [{"sku": skus[name][1], "qty": qty}], "points": 100 * qty, "shipping_address": ADDRESS}
        placed[name] = place(api, buyer, body).json
        assert placed[name]["status"] == "paid"
    drain_stream(services)
    refund = api.merch("POST", f"/admin/orders/{placed['cap']['order_id']}/refund", {"reason": "changed mind"})
    assert refund.json["status"] == "refunded"
    drain_stream(services)
    workers.count_sales(_replayed(services), services.search_indexer, services.reviews)  # redelivered: nothing twice
    assert services.search_indexer.rank_popular() == 2  # the refunded caps are taken back out
    assert ids(api.get("/products?sort=popular")) == [skus["tea"][0], skus["mug"][0], skus["cap"][0]]
    clock.set("2027-01-02T04:00:00Z")  # 32 days later: those sales are out of the window
    services.search_indexer.rank_popular()
    assert set(ids(api.get("/products?sort=popular"))) == {p for p, _ in skus.values()}
    assert api.get("/products?sort=popular").json["items"][0]["product_id"] == skus["cap"][0]  # newest first on a tie


def _replayed(services):
    """The orders' stream records again, as a redelivery would bring them."""
    streams = services.boto_session.client("dynamodbstreams", endpoint_url=services.settings.dynamodb_endpoint)
    arn = services.dynamodb.describe_table(TableName=services.settings.store_table)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        records += streams.get_records(ShardIterator=it["ShardIterator"], Limit=1000)["Records"]
    return records


def test_orders_from_before_the_sales_consumer_are_counted_once_by_the_backfill(services, api):
    from tools.reindex import count_recent_sales

    catalog_files.seed(services.catalog, [p for p in catalog_files.load() if p.product_id.startswith("travel-")])
    reindex(services)
    buyer = uid("buyer")
    give_points(services, buyer, 100_000)
    for sku, qty, points in (("TRV-UMB-NAVY", 1, 1290), ("TRV-TAG-TAN", 4, 4 * 590)):
        body = {"items": [{"sku": sku, "qty": qty}], "points": points, "shipping_address": ADDRESS}
        assert place(api, buyer, body).json["status"] == "paid"
    assert count_recent_sales(services) == 2
    assert count_recent_sales(services) == 0  # once
    top = ids(api.get("/products?sort=popular&limit=2"))
    assert top == ["travel-luggage-tag", "travel-starry-umbrella"]


def test_a_page_reads_a_bounded_number_of_products_and_goes_on_from_there(services, api, monkeypatch):
    from chalicelib.domain import search as rules

    monkeypatch.setattr(rules, "MAX_EXAMINED", 5)
    for n in range(12):
        product = {
            "product_id": f"kettle-{n:02d}",
            "category": "home",
            "title": f"Kettle {n}",
            "title_zh": "水壶",
            "status": "active",
            "skus": [{"sku": f"KETTLE-{n:02d}", "price_fen": 1000 + 10 * n, "stock": 5 if n in (3, 10) else 0}],
        }
        assert api.merch("POST", "/admin/products", product).status == 201
    reindex(services)
    seen, cursor, pages = [], None, 0
    while True:
        r = api.get("/products?sort=points_asc&in_stock=true&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status == 200, r.json
        seen += ids(r)
        cursor, pages = r.json["next_cursor"], pages + 1
        if not cursor:
            break
    assert seen == ["kettle-03", "kettle-10"] and pages == 3  # 12 products, at most 5 read a page
