"""How a coupon's discount is checked and split over an order's lines (pure rules, with a property test)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.coupons import CouponTerms, allocate, check_usable, discount, terms_discount
from chalicelib.domain.errors import CouponNotApplicable

CATEGORIES = ["food", "apparel", "tech", "home"]
NOW = "2026-12-06T10:00:00.000Z"


@dataclass(frozen=True)
class Line:
    category: str
    line_total_fen: int
    buys_coupon: bool = False


def held(**terms) -> dict:
    return {"coupon": "uc-test-coupon", "coupon_id": "c1", "title": "T", "min_subtotal_fen": 0,
            "expires_at": "2026-12-31T00:00:00.000Z", **terms}  # fmt: skip


lines_st = st.lists(
    st.builds(Line, st.sampled_from(CATEGORIES), st.integers(1, 100_000).map(lambda p: p * 10)), min_size=1, max_size=50
)
terms_st = st.one_of(
    st.builds(lambda a: {"amount_off_fen": a * 10}, st.integers(1, 200_000)),
    st.builds(lambda p: {"percent_off": p}, st.integers(1, 100)),
).flatmap(
    lambda off: st.builds(
        lambda cats: {**off, "categories": cats},
        st.none() | st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True),
    )
)


@given(lines_st, terms_st)
def test_the_parts_sum_to_the_discount_each_within_its_line_in_whole_points_and_only_on_eligible_lines(lines, terms):
    coupon = held(**terms)
    try:
        parts = discount(coupon, lines, NOW)
    except CouponNotApplicable as refused:  # no eligible line, or under one point off
        assert refused.details["reason"] in ("categories", "below_minimum")
        return
    eligible = [terms["categories"] is None or line.category in terms["categories"] for line in lines]
    base = sum(line.line_total_fen for line, ok in zip(lines, eligible, strict=True) if ok)
    off = min(terms["amount_off_fen"], base) if "amount_off_fen" in terms else base * terms["percent_off"] // 100
    assert sum(parts) == off // 10 * 10, "exactly the discount, in whole points"
    for part, line, ok in zip(parts, lines, eligible, strict=True):
        assert part % 10 == 0 and 0 <= part <= line.line_total_fen
        assert ok or part == 0, "a line outside the coupon's categories gets nothing"


@given(st.integers(1, 10**6), st.dictionaries(st.integers(0, 49), st.integers(1, 10**6), min_size=1))
def test_allocate_sums_exactly_and_stays_within_one_point_of_the_exact_share(points, totals):
    shares = allocate(points, totals)
    base = sum(totals.values())
    assert sum(shares.values()) == points
    assert all(abs(shares[n] - points * totals[n] / base) < 1 for n in totals)


def test_the_odd_points_go_to_the_largest_remainders_then_the_earlier_line():
    assert allocate(10, {0: 1, 1: 1, 2: 1}) == {0: 4, 1: 3, 2: 3}
    assert allocate(1, {0: 100, 1: 300}) == {0: 0, 1: 1}


@pytest.mark.parametrize(
    "state, reason",
    [
        ({"revoked_at": NOW}, "revoked"),
        ({"order_id": "o-1"}, "used"),
        ({"expires_at": NOW}, "expired"),
    ],
)
def test_a_revoked_used_or_expired_coupon_is_refused_naming_why(state, reason):
    with pytest.raises(CouponNotApplicable) as refused:
        check_usable(held(amount_off_fen=1000, **state), [Line("tech", 5000)], NOW)
    assert refused.value.details["reason"] == reason and "coupon" in refused.value.details["fields"]


def test_a_coupon_never_buys_coupons():
    with pytest.raises(CouponNotApplicable, match="does not buy coupons"):
        check_usable(held(amount_off_fen=1000), [Line("tech", 5000), Line("food", 100, buys_coupon=True)], NOW)


def test_the_minimum_counts_only_eligible_lines():
    terms = CouponTerms(coupon_id="c1", title="T", amount_off_fen=1000, min_subtotal_fen=6000, categories=["food"])
    with pytest.raises(CouponNotApplicable) as refused:
        terms_discount(terms, "uc-x", [Line("food", 5000), Line("tech", 90000)])
    assert refused.value.details["eligible_subtotal_fen"] == 5000
    assert terms_discount(terms, "uc-x", [Line("food", 5000), Line("food", 1000)]) == [
        830,
        170,
    ]  # 83.3 and 16.7 points: the odd point to the larger remainder


def test_a_percent_coupon_rounds_down_to_whole_points_and_an_amount_never_exceeds_the_eligible_total():
    assert terms_discount(
        CouponTerms(coupon_id="c", title="T", percent_off=15, min_subtotal_fen=0), "uc", [Line("tech", 1990)]
    ) == [290]
    assert terms_discount(
        CouponTerms(coupon_id="c", title="T", amount_off_fen=90000, min_subtotal_fen=0), "uc", [Line("tech", 500)]
    ) == [500]


@pytest.mark.parametrize(
    "amount_off, lines, expected",
    [
        (1000, [3000, 2000], [600, 400]),
        (1000, [10, 10, 10], [10, 10, 10]),
        (70, [1000, 1000, 1000], [30, 20, 20]),
        (99_990, [50, 70], [50, 70]),
    ],
)
def test_the_discount_is_whole_points_allocated_exactly(amount_off, lines, expected):
    class Line:
        def __init__(self, total):
            self.category, self.line_total_fen, self.buys_coupon = "food", total, False

    coupon = {
        "coupon": "uc-x",
        "expires_at": "2999-01-01T00:00:00.000Z",
        "min_subtotal_fen": 0,
        "amount_off_fen": amount_off,
        "categories": None,
    }
    assert discount(coupon, [Line(t) for t in lines], "2026-01-01T00:00:00.000Z") == expected
