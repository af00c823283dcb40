"""Shoppers browse the seeded catalog: categories, pages, product detail."""

from __future__ import annotations

import pytest

from chalicelib.domain.catalog import CATEGORIES
from tools import catalog as catalog_files


@pytest.fixture
def seeded(services, api):
    products = catalog_files.load()
    catalog_files.seed(services.catalog, products)
    return products


def walk(api, path: str, limit: int) -> list[str]:
    ids, cursor, pages = [], None, 0
    while True:
        sep = "&" if "?" in path else "?"
        r = api.get(f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status == 200, r.json
        assert len(r.json["items"]) <= limit
        ids += [p["product_id"] for p in r.json["items"]]
        cursor, pages = r.json["next_cursor"], pages + 1
        if cursor is None:
            return ids
        assert pages < 100


def test_categories_are_the_eight_with_active_counts(seeded, api):
    r = api.get("/categories")
    assert r.status == 200
    assert [c["id"] for c in r.json["items"]] == list(CATEGORIES)
    active = {c: sum(1 for p in seeded if p.category == c and p.status == "active") for c in CATEGORIES}
    assert {c["id"]: c["product_count"] for c in r.json["items"]} == active
    assert {c["name_zh"] for c in r.json["items"]} >= {"美食", "车生活", "酒店体验"}


def test_pagination_walks_every_active_product_exactly_once(seeded, api):
    active = sorted(p.product_id for p in seeded if p.status == "active")
    for limit in (1, 7, 100):
        ids = walk(api, "/products", limit)
        assert sorted(ids) == active and len(ids) == len(set(ids))


def test_category_pages_hold_only_that_category(seeded, api):
    for category in CATEGORIES:
        ids = walk(api, f"/products?category={category}", 3)
        assert sorted(ids) == sorted(p.product_id for p in seeded if p.category == category and p.status == "active")


def test_product_detail_has_prices_in_fen_and_points(seeded, api):
    r = api.get("/products/hotel-moganshan-villa")
    assert r.status == 200
    sku = r.json["skus"][0]
    assert sku["attributes"]["date"] == "2026-12-18"
    assert sku["price_fen"] == 168000 and sku["points_price"] == 16800 and sku["stock"] == 4
    assert r.json["accepts"] == {"points": True, "cash": True}


def test_draft_products_are_invisible_to_shoppers(seeded, api):
    assert api.get("/products/apparel-canvas-sneakers").status == 404
    assert "apparel-canvas-sneakers" not in walk(api, "/products?category=apparel", 50)


@pytest.mark.parametrize(
    "query, field",
    [
        ("category=cars", "category"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("cursor=not-a-cursor", "cursor"),
    ],
)
def test_bad_listing_queries_are_400_with_the_field(api, services, query, field):
    r = api.get(f"/products?{query}")
    assert r.status == 400 and r.error_code == "invalid_request"
    assert field in r.json["error"]["details"]["fields"]


def test_a_cursor_cannot_be_tampered_with_or_reused_on_another_listing(seeded, api):
    cursor = api.get("/products?category=food&limit=2").json["next_cursor"]
    assert api.get(f"/products?category=food&limit=2&cursor={cursor}").status == 200
    assert api.get(f"/products?category=tech&limit=2&cursor={cursor}").status == 400
    forged = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    assert api.get(f"/products?category=food&limit=2&cursor={forged}").status == 400


def test_unknown_and_malformed_product_ids_are_404(services, api):
    assert api.get("/products/no-such-product").error_code == "not_found"
    assert api.get("/products/" + "x" * 300).status == 404
    assert api.get("/products/%00%01").status == 404
