"""Every class of bad input gets a clear 4xx in the contract's shape, and nothing is written."""

from __future__ import annotations

import base64
import json

import pytest

from tests.api.test_designs import design_body
from tests.helpers import product_body, uid


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


# -- What an attacker showed us (money hardening): stock hoarding, payment events that must match, failed payments
# that are not final, orders too big to cancel, sales at old terms, input hygiene. Here: input hygiene. --
HIDDEN = [
    "bad\x00title",
    "price \u202e0001 \u00a5",
    "two\r\nlines",
    "zero\u200bwidth",
    "isolate\u2066x",
    "line\u2028separator",
]


@pytest.mark.parametrize("title", HIDDEN)
def test_product_and_design_titles_with_control_or_direction_characters_are_400_naming_the_field(api, title):
    r = api.merch("POST", "/admin/products", {**product_body(), "title": title})
    assert (r.status, list(r.json["error"]["details"]["fields"])) == (400, ["title"]), r.json
    d = api.post("/designs", {**design_body(), "title": title}, user=uid("designer"))
    assert (d.status, list(d.json["error"]["details"]["fields"])) == (400, ["title"]), d.json


def test_descriptions_keep_line_breaks_but_nothing_hidden(api):
    ok = api.merch("POST", "/admin/products", {**product_body(), "description": "Line one.\nLine two.\tTabbed."})
    assert ok.status == 201 and ok.json["description"] == "Line one.\nLine two.\tTabbed."
    bad = api.merch("POST", "/admin/products", {**product_body(), "description": "fine\u202eenif"})
    assert (bad.status, list(bad.json["error"]["details"]["fields"])) == (400, ["description"])


def test_joiners_that_emoji_and_scripts_need_are_accepted(api):
    r = api.merch(
        "POST", "/admin/products", {**product_body(), "title": "Family \U0001f468\u200d\U0001f469\u200d\U0001f467 mug"}
    )
    assert r.status == 201, r.json


@pytest.mark.parametrize(
    "url",
    [
        "https://img.example.com@evil.example/a.png",
        "https://user:pw@img.example.com/a.png",
        "https://img.example.com/a\x00.png",
        "https://img.example.com/\u202egnp.exe",
        "https://img\u200e.example.com/a.png",
        "http://img.example.com/a.png",
        "https:///a.png",
        "https://img.example.com/a b.png",
    ],
)
def test_image_urls_are_https_without_userinfo_or_hidden_characters(api, url):
    d = api.post("/designs", {**design_body(), "image_urls": [url]}, user=uid("designer"))
    assert (d.status, list(d.json["error"]["details"]["fields"])) == (400, ["image_urls.0"]), d.json
    p = api.merch("POST", "/admin/products", {**product_body(), "images": [url]})
    assert (p.status, list(p.json["error"]["details"]["fields"])) == (400, ["images.0"]), p.json


def test_a_cursor_forged_with_the_signing_key_is_400_not_500(api, services):
    codec = services.cursors
    for key, scope, path in [
        ({"pk": "PRODUCT#x", "sk": "META"}, "products|active|*", "/products"),
        ({"pk": "x", "sk": "y", "gsi1pk": 3}, "products|active|*", "/products"),
        ({"pk": "AUDIT#a", "sk": "META"}, "audit", "/admin/audit"),
    ]:
        payload = json.dumps(key).encode()
        cursor = base64.urlsafe_b64encode(codec._sign(payload, scope) + payload).decode().rstrip("=")
        r = api.merch("GET", f"{path}?cursor={cursor}")
        assert (r.status, r.error_code) == (400, "invalid_request"), (path, r.json)
