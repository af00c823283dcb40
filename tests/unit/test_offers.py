"""A SKU item as checkout reads and prices it: each field comes from its own attribute, and an item written
before a rule existed reads as that rule's starting value."""

from __future__ import annotations

from chalicelib.adapters.orders_repo import _offer
from chalicelib.domain.checkout import SkuOffer, _priced

# A SKU item whose every attribute holds a value of its own, so a field read from the wrong one shows
SAME_NAMED = {
    "sku": "S-1",
    "product_id": "p-1",
    "title": "Title",
    "category": "hotel",
    "status": "active",
    "price_fen": 101,
    "stock": 102,
    "owner_only": True,
    "min_tier": "pro",
    "sale_ends_at": "2027-01-03T00:00:00.000Z",
    "sale_starts_at": "2027-01-01T00:00:00.000Z",
    "per_user_limit": 103,
    "kind": "voucher",
    "coupon_id": "c-1",
    "queued": 104,
    "stock_shards": 105,
    "designer_id": "d-1",
    "design_id": "g-1",
    "terms_version": 106,
    "resource": {"slots": 2},
}


def test_each_field_of_an_offer_comes_from_its_own_attribute():
    item = {
        **SAME_NAMED,
        "accepts": {"points": False, "cash": False},
        "attributes": {"date": "2027-01-02", "roast": "dark"},
    }
    assert _offer(item)._asdict() == {
        **SAME_NAMED,
        "accepts_points": False,
        "accepts_cash": False,
        "stay_date": "2027-01-02",
    }


def test_an_item_from_before_the_rules_reads_as_their_starting_values():
    item = {"sku": "S-1", "product_id": "p-1", "title": "T", "category": "food", "price_fen": 1, "stock": 2}
    assert _offer(item) == SkuOffer("S-1", "p-1", "T", "food", "", 1, 2)
    assert _offer({**item, "min_tier": None, "kind": "", "attributes": None, "accepts": None}) == _offer(item)


def test_a_priced_line_takes_each_field_from_its_offer():
    offer = SkuOffer(
        "S-1",
        "p-1",
        "Title",
        "tech",
        "active",
        101,
        5,
        accepts_points=False,
        accepts_cash=True,
        owner_only=False,
        kind="coupon",
        coupon_id="c-1",
        designer_id="d-1",
        design_id="g-1",
    )
    assert _priced(offer, 2, "fan", "2027-01-01", "2027-01-01T00:00:00.000Z", False)._asdict() == {
        "sku": "S-1",
        "product_id": "p-1",
        "title": "Title",
        "category": "tech",
        "qty": 2,
        "unit_price_fen": 101,
        "accepts_points": False,
        "accepts_cash": True,
        "owner_only": False,
        "designer_id": "d-1",
        "design_id": "g-1",
        "digital": True,
        "coupon_id": "c-1",
        "booking": None,
    }
