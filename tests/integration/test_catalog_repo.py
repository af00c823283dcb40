"""CatalogRepository against DynamoDB Local: products, their SKUs, category counters and the audit entry change
together or not at all."""

from __future__ import annotations

import pytest

from chalicelib.adapters.catalog_repo import CatalogRepository, product_key, sku_key
from chalicelib.adapters.dynamo import LostRace
from chalicelib.domain.errors import AlreadyExists, Conflict
from tests.helpers import uid
from tests.integration.builders import audit, audited, product, stored


@pytest.fixture
def catalog(services) -> CatalogRepository:
    return CatalogRepository(services.table)


def _two_skus(p: dict) -> dict:
    p["skus"].append({**p["skus"][0], "sku": uid("SKU").upper(), "price_fen": 29900, "stock": 3})
    return p


def test_a_created_product_reads_back_with_its_stock_counted_and_audited(services, catalog):
    p = _two_skus(product(category="apparel"))
    catalog.create(p, audit(services, p["product_id"]))
    read = catalog.get_product(p["product_id"])
    assert read["version"] == 1
    read["skus"] = [{k: v for k, v in s.items() if k != "held"} for s in read["skus"]]  # what a change guards on
    assert {k: v for k, v in read.items() if k != "version"} == {k: v for k, v in p.items() if v is not None}
    sku = catalog.get_sku(p["skus"][1]["sku"])
    assert (sku["product_id"], sku["stock"], sku["price_fen"], sku["status"]) == (p["product_id"], 3, 29900, "active")
    assert catalog.category_counts(["apparel", "tech"]) == {"apparel": 1, "tech": 0}
    assert audited(services) == [p["product_id"]]


def test_a_second_product_with_the_same_id_already_exists_and_writes_nothing(services, catalog):
    first = product(category="apparel")
    catalog.create(first, audit(services, "first"))
    again = product(category="apparel", product_id=first["product_id"], title="Imposter")
    with pytest.raises(AlreadyExists) as raised:
        catalog.create(again, audit(services, "again"))
    assert raised.value.details == {"product_id": first["product_id"]}
    assert first["product_id"] in raised.value.message
    assert catalog.get_product(first["product_id"])["title"] == first["title"]
    assert stored(services.table, sku_key(again["skus"][0]["sku"])) == []
    assert catalog.category_counts(["apparel"]) == {"apparel": 1}
    assert audited(services) == ["first"]


def test_a_sku_used_by_another_product_already_exists_and_writes_nothing(services, catalog):
    first = product(category="apparel")
    catalog.create(first, audit(services, "first"))
    taken = first["skus"][0]["sku"]
    other = _two_skus(product(category="apparel"))
    other["skus"][1]["sku"] = taken
    with pytest.raises(AlreadyExists) as raised:
        catalog.create(other, audit(services, "other"))
    assert raised.value.details == {"sku": taken}
    assert taken in raised.value.message
    assert stored(services.table, product_key(other["product_id"]), sku_key(other["skus"][0]["sku"])) == []
    assert catalog.get_sku(taken)["product_id"] == first["product_id"]
    assert catalog.category_counts(["apparel"]) == {"apparel": 1}
    assert audited(services) == ["first"]


def test_replace_updates_the_product_its_skus_and_the_counters(services, catalog):
    before_p = _two_skus(product(status="draft", category="apparel"))
    catalog.create(before_p, audit(services, "create"))
    before = catalog.get_product(before_p["product_id"])
    kept, dropped = before["skus"]
    added = {"sku": uid("SKU").upper(), "attributes": {}, "price_fen": 5000, "stock": 0}
    after = {
        **before,
        "status": "active",
        "category": "tech",
        "title": "Renamed",
        "skus": [{**kept, "price_fen": 17700}, added],
    }
    catalog.replace(before, after, audit(services, "replace"))
    read = catalog.get_product(before["product_id"])
    assert (read["version"], read["title"], read["status"]) == (2, "Renamed", "active")
    assert [(s["sku"], s["price_fen"], s["stock"]) for s in read["skus"]] == [
        (kept["sku"], 17700, kept["stock"]),
        (added["sku"], 5000, 0),
    ]
    assert catalog.get_sku(kept["sku"])["title"] == "Renamed"
    assert stored(services.table, sku_key(dropped["sku"])) == []
    assert catalog.category_counts(["apparel", "tech"]) == {"apparel": 0, "tech": 1}
    assert catalog.page("active", "tech", 10, None)[0][0]["product_id"] == before["product_id"]
    assert catalog.page("draft", None, 10, None)[0] == []


def test_replace_from_a_stale_version_is_a_conflict_and_writes_nothing(services, catalog):
    p = product(category="apparel")
    catalog.create(p, audit(services, "create"))
    stale = catalog.get_product(p["product_id"])
    catalog.replace(stale, {**stale, "title": "First edit"}, audit(services, "first edit"))
    added = {"sku": uid("SKU").upper(), "attributes": {}, "price_fen": 5000, "stock": 0}
    late = {**stale, "status": "archived", "title": "Late edit", "skus": [{**stale["skus"][0], "price_fen": 10}, added]}
    with pytest.raises(Conflict) as raised:
        catalog.replace(stale, late, audit(services, "late edit"))
    assert raised.value.details == {"product": p["product_id"]}
    read = catalog.get_product(p["product_id"])
    assert (read["version"], read["title"], read["status"]) == (2, "First edit", "active")
    assert catalog.get_sku(p["skus"][0]["sku"])["price_fen"] == p["skus"][0]["price_fen"]
    assert stored(services.table, sku_key(added["sku"])) == []
    assert catalog.category_counts(["apparel"]) == {"apparel": 1}
    assert "late edit" not in audited(services)


def test_set_stock_moves_only_from_the_value_read(services, catalog):
    p = product()
    catalog.create(p, audit(services, "create"))
    sku = p["skus"][0]["sku"]
    catalog.set_stock(sku, 10, 25, audit(services, "restock"))
    with pytest.raises(LostRace):
        catalog.set_stock(sku, 10, 4, audit(services, "stale"))
    assert catalog.get_sku(sku)["stock"] == 25
    assert catalog.get_product(p["product_id"])["skus"][0]["stock"] == 25
    assert sorted(audited(services)) == ["create", "restock"]


def test_set_stock_of_an_unknown_sku_loses_the_race_and_creates_nothing(services, catalog):
    sku = uid("SKU").upper()
    with pytest.raises(LostRace):
        catalog.set_stock(sku, 0, 5, audit(services, "ghost"))
    assert catalog.get_sku(sku) is None and audited(services) == []


def test_replace_adding_a_sku_of_another_product_already_exists_and_writes_nothing(services, catalog):
    other, mine = product(), product()
    catalog.create(other, audit(services, "other"))
    catalog.create(mine, audit(services, "mine"))
    before = catalog.get_product(mine["product_id"])
    taken = other["skus"][0]["sku"]
    with pytest.raises(AlreadyExists) as raised:
        catalog.replace(
            before,
            {**before, "title": "Grabby", "skus": before["skus"] + [{**other["skus"][0]}]},
            audit(services, "grab"),
        )
    assert raised.value.details == {"sku": taken}
    assert catalog.get_product(mine["product_id"])["title"] == mine["title"]
    assert catalog.get_sku(taken)["product_id"] == other["product_id"]


def test_replace_keeping_a_sku_that_vanished_is_a_conflict_naming_it(services, catalog):
    p = _two_skus(product())
    catalog.create(p, audit(services, "create"))
    before = catalog.get_product(p["product_id"])
    vanished = before["skus"][1]["sku"]
    services.table.client.delete_item(TableName=services.table.name, Key=sku_key(vanished))
    with pytest.raises(Conflict) as raised:
        catalog.replace(before, {**before, "title": "Edited"}, audit(services, "edit"))
    assert raised.value.details == {"sku": vanished}
    assert catalog.get_product(p["product_id"])["version"] == 1
    assert stored(services.table, sku_key(vanished)) == []
