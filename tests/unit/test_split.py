"""How an order splits into points and cash (1 point = 10 fen), worked out by hand in fen."""

from __future__ import annotations

import pytest

from chalicelib.domain.checkout import PricedLine, split
from chalicelib.domain.errors import CashBelowMinimum, InvalidPointsSplit

MIN_CHARGE = 200  # ¥2, the smallest card charge these tests assume unless they say otherwise


def line(unit_price_fen: int, qty: int = 1, *, points: bool = True, cash: bool = True, sku: str = "S") -> PricedLine:
    return PricedLine(
        sku=sku,
        product_id=f"p-{sku.lower()}",
        title=f"Item {sku}",
        category="tech",
        qty=qty,
        unit_price_fen=unit_price_fen,
        accepts_points=points,
        accepts_cash=cash,
        owner_only=False,
    )


# A cap (99.00 yuan) that takes points or cash.
CAP = [line(9900, sku="CAP")]
# Points-only jacket x2 (10000), cash-only charger (3000), mug x3 either way (6000): subtotal 19000 fen.
MIXED = [line(5000, 2, cash=False, sku="JACKET"), line(3000, points=False, sku="CHARGER"), line(2000, 3, sku="MUG")]


# -- valid splits: subtotal, bounds and cash due --------------------------------------------------


@pytest.mark.parametrize(
    "lines, points, subtotal, min_points, max_points, cash_due",
    [
        # one line, either way: all cash, part, exactly min_charge left, all points
        (CAP, 0, 9900, 0, 990, 9900),
        (CAP, 1, 9900, 0, 990, 9890),
        (CAP, 500, 9900, 0, 990, 4900),
        (CAP, 970, 9900, 0, 990, 200),  # cash exactly the minimum charge is fine
        (CAP, 990, 9900, 0, 990, 0),  # cash exactly 0 is fine
        # points-only lines set min_points; the cash-only line is left out of max_points
        (MIXED, 1000, 19000, 1000, 1600, 9000),
        (MIXED, 1234, 19000, 1000, 1600, 6660),
        (MIXED, 1600, 19000, 1000, 1600, 3000),
        # all points: 3 x 1280 + 990 = 4830 fen = 483 points, and no other choice
        ([line(1280, 3, cash=False, sku="A"), line(990, cash=False, sku="B")], 483, 4830, 483, 483, 0),
        # all cash: 2 x 2590 = 5180 fen, no points allowed
        ([line(2590, 2, points=False)], 0, 5180, 0, 0, 5180),
        # a points-only line with a qty: 4 x 250 = 1000 fen, min = max = 100
        ([line(250, 4, cash=False)], 100, 1000, 100, 100, 0),
        # qty 99 of the most expensive price: 99 x 100_000_000 fen
        ([line(100_000_000, 99)], 0, 9_900_000_000, 0, 990_000_000, 9_900_000_000),
        ([line(100_000_000, 99)], 990_000_000, 9_900_000_000, 0, 990_000_000, 0),
    ],
)
def test_a_valid_split_quotes_exact_fen(lines, points, subtotal, min_points, max_points, cash_due):
    quote = split(lines, points, MIN_CHARGE)
    assert quote.subtotal_fen == subtotal
    assert (quote.min_points, quote.max_points) == (min_points, max_points)
    assert quote.points_applied == points
    assert quote.cash_due_fen == cash_due
    assert quote.cash_due_fen + quote.points_applied * 10 == quote.subtotal_fen


def test_quote_lines_show_qty_unit_price_and_line_total():
    quote = split(MIXED, 1000, MIN_CHARGE)
    shown = [(ln.sku, ln.product_id, ln.qty, ln.unit_price_fen, ln.line_total_fen) for ln in quote.lines]
    assert shown == [
        ("JACKET", "p-jacket", 2, 5000, 10000),
        ("CHARGER", "p-charger", 1, 3000, 3000),
        ("MUG", "p-mug", 3, 2000, 6000),
    ]


@pytest.mark.parametrize("unit_price_fen, qty, total", [(10, 1, 10), (1280, 3, 3840), (9990, 99, 989_010)])
def test_line_total_is_unit_price_times_qty(unit_price_fen, qty, total):
    assert line(unit_price_fen, qty).line_total_fen == total
    assert split([line(unit_price_fen, qty)], 0, 0).subtotal_fen == total


def test_with_no_minimum_charge_any_cash_part_is_fine():
    assert split(CAP, 989, 0).cash_due_fen == 10


# -- points outside [min_points, max_points] ---------------------------------------------------


@pytest.mark.parametrize(
    "lines, points, min_points, max_points",
    [
        (CAP, -1, 0, 990),
        (CAP, 991, 0, 990),
        (CAP, 10_000, 0, 990),
        (MIXED, 0, 1000, 1600),
        (MIXED, 999, 1000, 1600),  # one point short of the points-only jacket
        (MIXED, 1601, 1000, 1600),  # one point more than the lines that take points
        (MIXED, 1900, 1000, 1600),  # the whole subtotal: the charger is cash-only
        ([line(2590, 2, points=False)], 1, 0, 0),
        ([line(1280, 3, cash=False), line(990, cash=False, sku="B")], 482, 483, 483),
        ([line(1280, 3, cash=False), line(990, cash=False, sku="B")], 484, 483, 483),
    ],
)
def test_points_outside_the_bounds_are_refused_with_the_bounds(lines, points, min_points, max_points):
    with pytest.raises(InvalidPointsSplit) as err:
        split(lines, points, MIN_CHARGE)
    assert err.value.code == "invalid_points_split"
    assert err.value.details == {"min_points": min_points, "max_points": max_points, "points": points}
    assert f"between {min_points} and {max_points}" in err.value.message


def test_bounds_are_checked_before_the_minimum_charge():
    # 991 points would leave -10 fen; the answer is about bounds, not the cash part
    with pytest.raises(InvalidPointsSplit):
        split(CAP, 991, 10_000)


# -- a cash part between 1 fen and the minimum charge ------------------------------------------


@pytest.mark.parametrize(
    "lines, points, min_charge, cash, nearest",
    [
        # 9900 fen: 970 points leaves 200 fen, 990 leaves 0 -> both neighbours valid
        (CAP, 971, 200, 190, [970, 990]),
        (CAP, 980, 200, 100, [970, 990]),
        (CAP, 989, 200, 10, [970, 990]),
        # a minimum that is not a multiple of 10 rounds the lower neighbour down: 969 points leaves 210 >= 205
        (CAP, 970, 205, 200, [969, 990]),
        # only the lower neighbour: a 50 fen cash-only line keeps max_points at 1000, so 1005 is out
        ([line(10000, sku="A"), line(50, points=False, sku="B")], 1000, 200, 50, [985]),
        ([line(10000, sku="A"), line(50, points=False, sku="B")], 990, 200, 150, [985]),
        # only the higher neighbour: a 9000 fen points-only line keeps min_points at 900, so 800 is out
        ([line(9000, cash=False, sku="A"), line(1000, sku="B")], 900, 2000, 1000, [1000]),
        ([line(9000, cash=False, sku="A"), line(1000, sku="B")], 950, 2000, 500, [1000]),
        # a 150 fen item is below the minimum on its own: it can only be paid wholly in points
        ([line(150)], 0, 200, 150, [15]),
        ([line(150)], 14, 200, 10, [15]),
    ],
)
def test_cash_below_the_minimum_names_the_nearest_valid_points(lines, points, min_charge, cash, nearest):
    with pytest.raises(CashBelowMinimum) as err:
        split(lines, points, min_charge)
    details = err.value.details
    assert err.value.code == "cash_below_minimum"
    assert details["cash_due_fen"] == cash and details["min_charge_fen"] == min_charge
    assert details["points"] == points
    assert details["nearest_valid_points"] == nearest
    assert f"use {' or '.join(str(p) for p in nearest)} points" in err.value.message
    for suggestion in nearest:  # every suggestion is a split that goes through
        assert split(lines, suggestion, min_charge).points_applied == suggestion


def test_cash_below_the_minimum_carries_the_bounds_too():
    with pytest.raises(CashBelowMinimum) as err:
        split(MIXED[:1] + MIXED[2:], 1590, 200)  # jacket + mugs: 16000 fen, 1590 points leaves 100 fen
    assert err.value.details == {
        "min_points": 1000,
        "max_points": 1600,
        "points": 1590,
        "cash_due_fen": 100,
        "min_charge_fen": 200,
        "nearest_valid_points": [1580, 1600],
    }


@pytest.mark.parametrize("points, cash", [(970, 200), (990, 0), (969, 210)])
def test_cash_of_zero_or_at_least_the_minimum_is_accepted(points, cash):
    assert split(CAP, points, 200).cash_due_fen == cash


def test_an_order_body_hashes_the_same_whether_or_not_it_names_absent_optional_fields():
    """A retry of a body sent before `expected` existed still replays the first order."""
    import hashlib
    import json

    from chalicelib.domain.checkout import OrderRequest
    from chalicelib.services.checkout import request_hash

    body = OrderRequest.model_validate({"items": [{"sku": "A-1", "qty": 2}], "points": 100})
    before = {"items": [{"sku": "A-1", "qty": 2}], "points": 100, "shipping_address": None}  # as hashed then
    assert request_hash(body) == hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()


def test_a_basket_no_split_can_charge_says_so_instead_of_naming_no_points():
    """A cash-only item cheaper than the minimum charge can only be bought with more in the basket."""

    cheap = PricedLine(
        sku="GUM",
        product_id="p-gum",
        title="Gum",
        category="food",
        qty=1,
        unit_price_fen=150,
        accepts_points=False,
        accepts_cash=True,
        owner_only=False,
    )
    with pytest.raises(CashBelowMinimum) as refused:
        split([cheap], 0, 200)
    assert refused.value.details["nearest_valid_points"] == []
    assert "add to the basket" in refused.value.message and "use  points" not in refused.value.message
