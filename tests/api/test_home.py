"""The store tab's home, as merchandisers curate it and shoppers (fans and owners) see it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.domain.home import MAX_COLLECTIONS
from tests.api.shop import ADDRESS, give_points, make_owner, place
from tests.helpers import uid
from tools import catalog as catalog_files

NAMED = {"travel-starry-umbrella", "car-dual-dashcam", "car-floor-mats"}


@pytest.fixture
def shop(services, api):
    """The products these tests name and enough others to fill the home's new arrivals (12)."""
    products = catalog_files.load()
    catalog_files.seed(services.catalog, [p for p in products if p.product_id in NAMED] + products[:13])
    return services


def collection(cid: str, products: list[str], **more) -> dict:
    return {"collection_id": cid, "title": cid.title(), "title_zh": "精选", "product_ids": products, **more}


BANNER = {
    "banner_id": "winter-sale",
    "title": "Winter sale",
    "title_zh": "冬季特卖",
    "image_url": "https://img.lifeshop.example/banners/winter.jpg",
    "link": "/products/car-dual-dashcam",
}


def test_a_fan_and_an_owner_see_the_home_merchandisers_curated(shop, api, clock):
    clock.set("2026-12-06T02:00:00Z")
    assert api.merch("POST", "/admin/banners", BANNER).status == 201
    later = {**BANNER, "banner_id": "new-year", "starts_at": "2027-01-01T00:00:00+08:00"}
    assert api.merch("POST", "/admin/banners", later).status == 201
    picks = collection("winter-picks", ["travel-starry-umbrella", "car-dual-dashcam"], position=2)
    owners = collection("for-owners", ["car-floor-mats"], audience="owners", position=1)
    for body in (picks, owners):
        r = api.merch("POST", "/admin/collections", body)
        assert r.status == 201, r.json
    fan, owner = uid("fan"), uid("owner")
    make_owner(shop, owner)
    public = api.get("/home")
    assert public.status == 200, public.json
    assert [b["banner_id"] for b in public.json["banners"]] == ["winter-sale"]
    assert [c["collection_id"] for c in public.json["collections"]] == ["winter-picks"]
    assert [p["product_id"] for p in public.json["collections"][0]["items"]] == picks["product_ids"]
    assert len(public.json["new_arrivals"]) == 12 and public.json["popular"] == []
    assert public.headers["Cache-Control"] == "public, max-age=30"
    seen = api.get("/home", user=owner).json
    assert [c["collection_id"] for c in seen["collections"]] == ["for-owners", "winter-picks"]
    assert seen["collections"][0]["items"][0]["eligible"] is True
    assert [c["collection_id"] for c in api.get("/home", user=fan).json["collections"]] == ["winter-picks"]
    clock.set("2027-01-01T00:00:00Z")  # 08:00 in Shanghai: the new-year banner is live
    assert [b["banner_id"] for b in api.get("/home").json["banners"]] == ["new-year", "winter-sale"]


def test_the_home_answers_304_to_a_client_that_has_it(shop, api):
    first = api.get("/home")
    etag = first.headers["ETag"]
    again = api.get("/home", headers={"If-None-Match": etag})
    assert again.status == 304
    assert api.merch("POST", "/admin/banners", BANNER).status == 201
    assert api.get("/home", headers={"If-None-Match": etag}).status == 200  # it changed


def test_an_archived_product_drops_out_of_its_collection_on_the_home(shop, api):
    body = collection("picks", ["travel-starry-umbrella", "car-dual-dashcam"])
    assert api.merch("POST", "/admin/collections", body).status == 201
    assert api.merch("POST", "/admin/products/travel-starry-umbrella/archive").status == 200
    items = api.get("/home").json["collections"][0]["items"]
    assert [p["product_id"] for p in items] == ["car-dual-dashcam"]


def test_collections_and_banners_are_edited_deleted_and_audited(shop, api):
    assert api.merch("POST", "/admin/collections", collection("picks", ["car-dual-dashcam"])).status == 201
    again = api.merch("POST", "/admin/collections", collection("picks", ["car-dual-dashcam"]))
    assert again.status == 409 and again.json["error"]["code"] == "already_exists"
    edit = {k: v for k, v in collection("picks", ["travel-starry-umbrella"]).items() if k != "collection_id"}
    r = api.merch("PUT", "/admin/collections/picks", edit)
    assert r.status == 200 and r.json["product_ids"] == ["travel-starry-umbrella"]
    assert [c["collection_id"] for c in api.merch("GET", "/admin/collections").json["items"]] == ["picks"]
    assert api.merch("DELETE", "/admin/collections/picks").status == 200
    assert api.merch("DELETE", "/admin/collections/picks").status == 404
    assert api.merch("PUT", "/admin/collections/picks", edit).status == 404
    actions = [a["action"] for a in api.merch("GET", "/admin/audit?limit=10").json["items"]]
    assert actions[:3] == ["collection.delete", "collection.update", "collection.create"]
    assert api.merch("GET", "/admin/collections").json["items"] == []


@pytest.mark.parametrize(
    "path, body",
    [
        ("/admin/collections", collection("picks", ["no-such-product"])),
        ("/admin/banners", {**BANNER, "link": "javascript:alert(1)"}),
        ("/admin/banners", {**BANNER, "image_url": "http://img.example/x.jpg"}),
        (
            "/admin/collections",
            collection("picks", ["car-dual-dashcam"], ends_at="2020-01-01T00:00:00Z", starts_at="2021-01-01T00:00:00Z"),
        ),
    ],
)
def test_a_bad_collection_or_banner_is_400_and_nothing_is_stored(shop, api, path, body):
    r = api.merch("POST", path, body)
    assert r.status == 400, r.json
    assert api.merch("GET", path).json["items"] == []


def test_only_merchandisers_curate(shop, api):
    fan = uid("fan")
    assert api.post("/admin/collections", collection("picks", ["car-dual-dashcam"]), user=fan).status == 403
    assert api.get("/admin/banners", user=fan).status == 403
    assert api.get("/admin/banners").status == 401


def test_at_most_fifty_collections_even_when_sixty_are_made_at_once(services, api):
    catalog_files.seed(services.catalog, [p for p in catalog_files.load() if p.product_id == "car-dual-dashcam"])

    def make(n: int) -> int:
        return api.merch("POST", "/admin/collections", collection(f"c-{n:03d}", ["car-dual-dashcam"])).status

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(make, range(60)))
    assert statuses.count(201) == MAX_COLLECTIONS and statuses.count(409) == 10
    assert len(api.merch("GET", "/admin/collections").json["items"]) == MAX_COLLECTIONS


def test_popular_on_the_home_is_what_sold_most(shop, api):
    from tools.reindex import count_recent_sales

    buyer = uid("buyer")
    give_points(shop, buyer, 100_000)
    body = {"items": [{"sku": "TRV-UMB-NAVY", "qty": 3}], "points": 3 * 1290, "shipping_address": ADDRESS}
    assert place(api, buyer, body).json["status"] == "paid"
    assert count_recent_sales(shop) == 1  # what the sales consumer does (tests/api/test_search.py), then the ranking
    assert [p["product_id"] for p in api.get("/home").json["popular"]] == ["travel-starry-umbrella"]


def test_merchandisers_preview_the_home_as_a_fan_and_as_an_owner(shop, api):
    owners = collection("for-owners", ["car-floor-mats"], audience="owners")
    assert api.merch("POST", "/admin/collections", owners).status == 201
    fan = api.merch("GET", "/admin/home/preview?as=fan")
    owner = api.merch("GET", "/admin/home/preview?as=owner")
    assert fan.status == owner.status == 200
    assert fan.json["collections"] == [] and owner.json["collections"][0]["collection_id"] == "for-owners"
    assert owner.json["collections"][0]["items"][0]["eligible"] is True
    assert api.merch("GET", "/admin/home/preview?as=vip").status == 400
    assert api.get("/admin/home/preview?as=owner", user=uid("fan")).status == 403
