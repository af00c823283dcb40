"""The catalog files load with the API's models and seed idempotently without undoing edits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from chalicelib.domain.catalog import CATEGORIES, ProductUpdate
from tools import catalog as catalog_files


def test_catalog_files_cover_every_category_with_realistic_variety():
    products = catalog_files.load()
    per_category = Counter(p.category for p in products)
    assert set(per_category) == set(CATEGORIES) and min(per_category.values()) >= 6 and len(products) >= 60
    kinds = Counter((p.accepts.points, p.accepts.cash) for p in products)
    assert kinds[(True, False)] and kinds[(False, True)] and kinds[(True, True)]
    assert all(p.category == "car-life" for p in products if p.owner_only) and any(p.owner_only for p in products)
    assert all(p.title_zh and p.title for p in products)


def test_seeding_twice_changes_nothing_and_keeps_merchandiser_edits(services):
    products = catalog_files.load()
    first = catalog_files.seed(services.catalog, products)
    assert len(first.created) == len(products) and first.kept == []
    edited = services.catalog.product("food-yunnan-coffee", active_only=False)
    update = ProductUpdate.model_validate(
        {
            **edited.model_dump(include=set(ProductUpdate.model_fields) - {"product_id", "status"}),
            "title": "Edited by a merchandiser",
        }
    )
    services.catalog.update("merch-1", "food-yunnan-coffee", update)
    before = services.catalog.products(None, None, 100, None)
    audit_before = services.audit.page(100, None).items

    second = catalog_files.seed(services.catalog, products)
    assert second.created == [] and len(second.kept) == len(products)
    after = services.catalog.products(None, None, 100, None)
    assert after == before
    assert services.catalog.product("food-yunnan-coffee", active_only=False).title == "Edited by a merchandiser"
    assert services.audit.page(100, None).items == audit_before


def test_a_bad_catalog_file_is_reported_with_file_product_and_field(tmp_path: Path):
    (tmp_path / "food.yaml").write_text(
        "category: food\nproducts:\n  - product_id: food-x\n    title: X\n    title_zh: 叉\n"
        "    skus:\n      - {sku: X-1, price_fen: 105}\n",
        encoding="utf-8",
    )
    with pytest.raises(catalog_files.CatalogFileError) as err:
        catalog_files.load(tmp_path)
    assert "food.yaml" in str(err.value) and "food-x" in str(err.value) and "skus.0.price_fen" in str(err.value)


def test_a_category_file_must_match_its_name(tmp_path: Path):
    (tmp_path / "food.yaml").write_text("category: tech\nproducts: []\n", encoding="utf-8")
    with pytest.raises(catalog_files.CatalogFileError, match="food.yaml"):
        catalog_files.load(tmp_path)
