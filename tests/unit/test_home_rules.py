"""What the home shows now: publish windows, positions, owners' collections; and what a curated entry may be."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from chalicelib.domain import home as rules

NOW = "2026-12-06T10:00:00.000Z"


def entry(entry_id: str, position: int = 0, **more) -> dict:
    return {"collection_id": entry_id, "position": position, "audience": "all", **more}


def test_only_entries_inside_their_window_are_live_lowest_position_first():
    entries = [
        entry("later", 1, starts_at="2026-12-06T10:00:00.001Z"),
        entry("ended", 0, ends_at=NOW),  # ends_at is exclusive
        entry("b", 5),
        entry("a", 5, starts_at="2026-12-01T00:00:00.000Z", ends_at="2026-12-31T00:00:00.000Z"),
        entry("first", 0),
    ]
    assert [e["collection_id"] for e in rules.live(entries, NOW, owner=False)] == ["first", "a", "b"]


def test_an_owners_collection_is_shown_to_owners_only():
    entries = [entry("everyone"), entry("owners", audience="owners")]
    assert [e["collection_id"] for e in rules.live(entries, NOW, owner=False)] == ["everyone"]
    assert [e["collection_id"] for e in rules.live(entries, NOW, owner=True)] == ["everyone", "owners"]


def test_most_sold_leaves_out_what_sold_nothing_and_breaks_ties_by_id():
    assert rules.most_sold({"b": 3, "a": 3, "c": 9, "z": 0}, 10) == ["c", "a", "b"]
    assert rules.most_sold({"b": 3, "a": 3, "c": 9}, 2) == ["c", "a"]


def collection(**more) -> dict:
    return {
        "collection_id": "winter-picks",
        "title": "Winter",
        "title_zh": "冬季精选",
        "product_ids": ["car-mats"],
        **more,
    }


@pytest.mark.parametrize(
    "change, field",
    [
        ({"product_ids": []}, "product_ids"),
        ({"product_ids": ["a-1"] * 2}, "product_ids"),
        ({"product_ids": [f"p-{n:03d}" for n in range(101)]}, "product_ids"),
        ({"audience": "vips"}, "audience"),
        ({"position": 1000}, "position"),
        ({"starts_at": "2026-12-06T10:00:00"}, "starts_at"),  # no time zone
        ({"collection_id": "A"}, "collection_id"),
    ],
)
def test_a_collection_that_cannot_be_shown_is_refused(change, field):
    with pytest.raises(ValidationError) as caught:
        rules.CollectionInput.model_validate_json(json.dumps(collection(**change)))
    assert field in str(caught.value.errors()[0]["loc"]) or field in str(caught.value)


def test_a_window_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValidationError, match="ends_at must be after starts_at"):
        rules.CollectionInput.model_validate_json(
            json.dumps(collection(starts_at="2026-12-10T00:00:00+08:00", ends_at="2026-12-09T00:00:00+08:00"))
        )


@pytest.mark.parametrize("link", ["/products/car-dual-dashcam", "https://nio.example/winter"])
def test_a_banner_leads_to_an_app_path_or_an_https_page(link):
    body = {
        "banner_id": "winter",
        "title": "W",
        "title_zh": "冬",
        "image_url": "https://img.example/w.jpg",
        "link": link,
    }
    assert rules.BannerInput.model_validate(body).link == link


@pytest.mark.parametrize("link", ["http://nio.example", "//evil.example/x", "javascript:alert(1)", "/a b"])
def test_a_banner_link_elsewhere_is_refused(link):
    body = {
        "banner_id": "winter",
        "title": "W",
        "title_zh": "冬",
        "image_url": "https://img.example/w.jpg",
        "link": link,
    }
    with pytest.raises(ValidationError):
        rules.BannerInput.model_validate(body)
