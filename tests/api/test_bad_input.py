"""Every class of bad input gets a clear 4xx in the contract's shape, and nothing is written."""

from __future__ import annotations

import pytest

from tests.helpers import product_body


def assert_error_shape(r, status: int, code: str) -> dict:
    assert r.status == status, r.json
    assert set(r.json) == {"error"} and set(r.json["error"]) == {"code", "message", "details"}
    assert r.json["error"]["code"] == code and r.json["error"]["message"]
    return r.json["error"]["details"]


def nothing_written(api) -> bool:
    return (
        api.merch("GET", "/admin/products").json["items"] == [] and api.merch("GET", "/admin/audit").json["items"] == []
    )


@pytest.mark.parametrize("raw", [b"{bad", b"[]", b"null", b"42", b'"text"', b'{"category": "tech",}'])
def test_malformed_json_is_400(api, raw):
    assert_error_shape(api.merch("POST", "/admin/products", raw=raw), 400, "invalid_request")
    assert nothing_written(api)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": 5}, "title"),
        ({"owner_only": "yes"}, "owner_only"),
        ({"skus": "SKU-1"}, "skus"),
        ({"skus": [{"sku": "A1", "price_fen": "100"}]}, "skus.0.price_fen"),
        ({"skus": [{"sku": "A1", "price_fen": 100.5}]}, "skus.0.price_fen"),
        ({"skus": [{"sku": "A1", "price_fen": -10}]}, "skus.0.price_fen"),
        ({"skus": [{"sku": "A1", "price_fen": 105}]}, "skus.0.price_fen"),
        ({"skus": [{"sku": "A1", "price_fen": 10**30}]}, "skus.0.price_fen"),
        ({"skus": [{"sku": "A1", "price_fen": 100, "stock": -1}]}, "skus.0.stock"),
        ({"skus": []}, "skus"),
        ({"skus": [{"sku": "A 1", "price_fen": 100}]}, "skus.0.sku"),
        ({"title": "x" * 121}, "title"),
        ({"description": "x" * 5000}, "description"),
        ({"category": "cars"}, "category"),
        ({"status": "archived"}, "status"),
        ({"accepts": {"points": False, "cash": False}}, "accepts"),
        ({"images": ["http://insecure.example/a.png"]}, "images.0"),
        ({"price": 100}, "price"),
        ({"designer_id": "me"}, "designer_id"),
    ],
)
def test_wrong_types_ranges_sizes_and_unknown_fields_name_the_field(api, change, field):
    details = assert_error_shape(api.merch("POST", "/admin/products", product_body(**change)), 400, "invalid_request")
    assert field in details["fields"], details
    assert nothing_written(api)


def test_hotel_slots_need_a_date(api):
    body = product_body(category="hotel", skus=[{"sku": "H1", "price_fen": 1000, "attributes": {"date": "2026-02-30"}}])
    assert_error_shape(api.merch("POST", "/admin/products", body), 400, "invalid_request")
    assert nothing_written(api)


def test_duplicate_skus_in_one_body_are_400(api):
    body = product_body(skus=[{"sku": "D1", "price_fen": 100}, {"sku": "D1", "price_fen": 200}])
    assert "skus" in assert_error_shape(api.merch("POST", "/admin/products", body), 400, "invalid_request")["fields"]


def test_missing_body_wrong_content_type_and_huge_body(api):
    assert_error_shape(api.merch("POST", "/admin/products"), 400, "invalid_request")
    r = api.merch("POST", "/admin/products", product_body(), headers={"Content-Type": "text/plain"})
    assert_error_shape(r, 415, "unsupported_media_type")
    huge = product_body(description="x" * 300_000)
    assert_error_shape(api.merch("POST", "/admin/products", huge), 413, "payload_too_large")
    assert nothing_written(api)


def test_stock_adjustment_bad_input(api):
    for body, field in [
        ({"delta": "1", "reason": "x"}, "delta"),
        ({"delta": 1}, "reason"),
        ({"delta": 10**12, "reason": "x"}, "delta"),
        ({"delta": 1, "reason": ""}, "reason"),
    ]:
        details = assert_error_shape(api.merch("POST", "/admin/skus/ANY/stock", body), 400, "invalid_request")
        assert field in details["fields"]
    assert_error_shape(api.merch("POST", "/admin/skus/NOPE/stock", {"delta": 1, "reason": "x"}), 404, "not_found")


def test_wrong_method_is_405_in_the_contract_shape(api):
    assert_error_shape(api.call("DELETE", "/categories"), 405, "method_not_allowed")


def test_unexpected_failures_still_answer_in_the_contract_shape(api, services, monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(services.catalog, "categories", broken)
    details = assert_error_shape(api.get("/categories"), 500, "internal_error")
    assert "boom" not in str(details)


@pytest.mark.parametrize(
    ("path", "scope", "key"),
    [
        ("/me/points/ledger", "ledger|me", {"pk": "USER#other", "sk": "LEDGER#000000000001#000"}),
        ("/me/points/ledger", "ledger|me", {"pk": "USER#me", "sk": "PROFILE"}),
        ("/me/points/ledger", "ledger|me", {"pk": "ORDER#o-1", "sk": "META"}),
        ("/me/contribution/ledger", "contribution|me", {"pk": "USER#other", "sk": "CONTRIB#LEDGER#000001"}),
        ("/me/coupons", "my-coupons|me", {"pk": "USER#me", "sk": "LEDGER#000000000001#000"}),
        (
            "/me/orders",
            "orders|*|me",
            {"pk": "ORDER#o-1", "sk": "META", "gsi3pk": "ORDER#U#other", "gsi3sk": "2026-12-01T02:00:00.000Z#o-1"},
        ),
        (
            "/products",
            "products|active|*",
            {"pk": "PRODUCT#p-1", "sk": "META", "gsi2pk": "PRODUCT#S#draft", "gsi2sk": "2026-12-01T02:00:00.000Z#p-1"},
        ),
    ],
)
def test_a_validly_signed_cursor_of_another_listing_is_400_not_500(api, services, path, scope, key):
    """A cursor signed with the shop's key (a leaked key, or a scope two listings share) whose key is outside the
    listing's partition or sort-key range: DynamoDB would refuse it as the starting key (a 500); it is 400."""
    api.get("/me", user="me")
    cursor = services.cursors.encode(key, scope)
    r = api.get(f"{path}?cursor={cursor}", user="me")
    assert_error_shape(r, 400, "invalid_request")
    assert r.json["error"]["details"]["fields"] == {"cursor": "invalid cursor"}
