"""Merchandisers create, edit, publish, archive and restock products; every write is audited."""

from __future__ import annotations

from tests.helpers import product_body


def audit_for(api, entity_id: str) -> list[dict]:
    items = api.merch("GET", "/admin/audit?limit=100").json["items"]
    return [i for i in items if i["entity_id"] == entity_id]


def test_create_is_draft_until_published_then_shoppers_see_it(api):
    body = product_body()
    r = api.merch("POST", "/admin/products", body)
    assert r.status == 201 and r.json["status"] == "draft"
    assert r.json["skus"][0]["points_price"] == 1990 and r.json["skus"][0]["stock"] == 10
    pid = body["product_id"]
    assert api.get(f"/products/{pid}").status == 404
    assert api.merch("GET", f"/admin/products/{pid}").json["status"] == "draft"
    assert api.merch("POST", f"/admin/products/{pid}/publish").json["status"] == "active"
    assert api.get(f"/products/{pid}").status == 200
    counts = {c["id"]: c["product_count"] for c in api.get("/categories").json["items"]}
    assert counts["tech"] == 1


def test_publish_archive_follow_the_status_rules(api):
    body = product_body(status="active")
    pid = body["product_id"]
    assert api.merch("POST", "/admin/products", body).json["status"] == "active"
    again = api.merch("POST", f"/admin/products/{pid}/publish")
    assert again.status == 409 and again.error_code == "invalid_status_transition"
    assert api.merch("POST", f"/admin/products/{pid}/archive").json["status"] == "archived"
    assert api.get(f"/products/{pid}").status == 404
    assert {c["id"]: c["product_count"] for c in api.get("/categories").json["items"]}["tech"] == 0
    assert api.merch("POST", f"/admin/products/{pid}/archive").status == 409
    assert api.merch("POST", f"/admin/products/{pid}/publish").json["status"] == "active"
    assert api.merch("POST", "/admin/products/nope-nope/publish").status == 404


def test_duplicate_product_or_sku_is_409_and_writes_nothing(api):
    first = product_body()
    assert api.merch("POST", "/admin/products", first).status == 201
    dup = api.merch("POST", "/admin/products", product_body(product_id=first["product_id"]))
    assert dup.status == 409 and dup.error_code == "already_exists"
    clash = product_body(skus=[first["skus"][0], {"sku": "FRESH-SKU-1", "price_fen": 100}])
    r = api.merch("POST", "/admin/products", clash)
    assert r.status == 409 and r.json["error"]["details"] == {"sku": first["skus"][0]["sku"]}
    assert api.merch("GET", f"/admin/products/{clash['product_id']}").status == 404
    assert api.merch("POST", "/admin/skus/FRESH-SKU-1/stock", {"delta": 1, "reason": "x"}).status == 404


def test_update_replaces_fields_keeps_stock_adds_and_removes_skus(api):
    body = product_body(status="active")
    pid, old_sku = body["product_id"], body["skus"][0]["sku"]
    api.merch("POST", "/admin/products", body)
    new = {k: v for k, v in body.items() if k not in ("product_id", "status")}
    new.update(
        title="Renamed",
        category="home",
        skus=[
            {"sku": old_sku, "price_fen": 25000, "stock": 999},
            {"sku": old_sku + "-B", "price_fen": 500, "stock": 3},
        ],
    )
    r = api.merch("PUT", f"/admin/products/{pid}", new)
    assert r.status == 200, r.json
    assert r.json["title"] == "Renamed" and r.json["status"] == "active" and r.json["category"] == "home"
    assert [(s["sku"], s["price_fen"], s["stock"]) for s in r.json["skus"]] == [
        (old_sku, 25000, 10),
        (old_sku + "-B", 500, 3),
    ]
    counts = {c["id"]: c["product_count"] for c in api.get("/categories").json["items"]}
    assert (counts["tech"], counts["home"]) == (0, 1)
    new["skus"] = [{"sku": old_sku + "-B", "price_fen": 500}]
    assert api.merch("PUT", f"/admin/products/{pid}", new).status == 200
    assert api.merch("POST", f"/admin/skus/{old_sku}/stock", {"delta": 1, "reason": "x"}).status == 404
    assert api.merch("PUT", "/admin/products/unknown-product", new).status == 404


def test_stock_adjustments_never_go_below_zero(api):
    body = product_body()
    sku = body["skus"][0]["sku"]
    api.merch("POST", "/admin/products", body)
    r = api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": -4, "reason": "damaged in transit"})
    assert r.status == 200 and r.json == {"sku": sku, "stock": 6}
    r = api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": -7, "reason": "count"})
    assert r.status == 409 and r.error_code == "insufficient_stock" and r.json["error"]["details"]["stock"] == 6
    assert api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": 0, "reason": "x"}).status == 400


def test_every_write_is_in_the_audit_log_with_before_and_after(api):
    body = product_body()
    pid, sku = body["product_id"], body["skus"][0]["sku"]
    api.merch("POST", "/admin/products", body)
    api.merch("POST", f"/admin/products/{pid}/publish")
    api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": 5, "reason": "restock"})
    entries = audit_for(api, pid)
    assert [e["action"] for e in entries] == ["product.publish", "product.create"]
    assert all(e["actor"] == "merch-t" for e in entries)
    assert entries[0]["before"]["status"] == "draft" and entries[0]["after"]["status"] == "active"
    assert entries[1]["before"] is None and entries[1]["after"]["title"] == body["title"]
    stock = audit_for(api, sku)[0]
    assert stock["before"] == {"stock": 10} and stock["after"] == {"stock": 15, "delta": 5, "reason": "restock"}


def test_admin_listing_filters_by_status_and_category_and_pages(api):
    made = []
    for i in range(5):
        body = product_body(category="food" if i % 2 else "home", status="active" if i < 3 else "draft")
        api.merch("POST", "/admin/products", body)
        made.append(body)

    def ids(query):
        return {p["product_id"] for p in api.merch("GET", f"/admin/products?{query}").json["items"]}

    assert ids("limit=100") == {b["product_id"] for b in made}
    assert ids("status=draft") == {b["product_id"] for b in made if b["status"] == "draft"}
    assert ids("category=food") == {b["product_id"] for b in made if b["category"] == "food"}
    assert ids("status=active&category=home") == {b["product_id"] for b in made[:3] if b["category"] == "home"}
    page = api.merch("GET", "/admin/products?limit=2")
    assert len(page.json["items"]) == 2 and page.json["next_cursor"]
    assert api.merch("GET", "/admin/products?status=deleted").status == 400


def test_an_edit_too_big_for_one_transaction_is_a_clear_400_and_changes_nothing(api):
    old = [{"sku": f"OLD-{i}", "price_fen": 100, "stock": 1} for i in range(50)]
    body = product_body(category="hotel", skus=[{**s, "attributes": {"date": "2099-01-01"}} for s in old])
    assert api.merch("POST", "/admin/products", body).status == 201
    new = {k: v for k, v in body.items() if k not in ("product_id", "status")}
    new["skus"] = [{"sku": f"NEW-{i}", "price_fen": 100, "attributes": {"date": "2099-02-01"}} for i in range(50)]
    r = api.merch("PUT", f"/admin/products/{body['product_id']}", new)
    assert r.status == 400 and r.json["error"]["details"]["max_items"] == 100
    assert [s["sku"] for s in api.merch("GET", f"/admin/products/{body['product_id']}").json["skus"]] == [
        s["sku"] for s in old
    ]
