"""Exact integer money: points prices of fen prices, and designers' royalty points."""

from __future__ import annotations

import pytest

from chalicelib.domain.designs import royalty_points
from chalicelib.domain.money import FEN_PER_POINT, points_price


def test_one_point_is_ten_fen():
    assert FEN_PER_POINT == 10


@pytest.mark.parametrize(
    "price_fen, points",
    [
        (0, 0),
        (20, 2),
        (990, 99),
        (9900, 990),  # ¥99 = 990 points
        (12_340, 1234),
        (100_000_000, 10_000_000),  # the highest catalog price, ¥1,000,000
        (9_900_000_000, 990_000_000),  # way past any float trouble
    ],
)
def test_points_price(price_fen, points):
    assert points_price(price_fen) == points
    assert points_price(price_fen) * FEN_PER_POINT == price_fen


@pytest.mark.parametrize("price_fen", [1, 5, 9, 11, 99, 12_345, 99_999_999])
def test_points_price_refuses_prices_that_are_not_whole_points(price_fen):
    with pytest.raises(ValueError, match=f"price {price_fen} fen is not a multiple of 10"):
        points_price(price_fen)


@pytest.mark.parametrize(
    "line_total_fen, rate, points",
    [
        (10_000, "0.05", 50),  # 1000 points x 5%
        (10_000, "0.1", 100),
        (10_000, "0.333", 333),  # 333.0 exactly
        (1_000, "0.333", 33),  # 33.3 -> 33
        (990, "0.05", 4),  # 99 x 0.05 = 4.95 -> 4 (floor, not round)
        (990, "0.1", 9),  # 9.9 -> 9
        (190, "0.05", 0),  # 0.95 -> 0
        (9_900, "0.333", 329),  # 329.67 -> 329
        (3_000, "0.1", 30),
        (1_000, "0.29", 29),  # a float gives 28.999999999999996; exact gives 29
        (1_000, "0.57", 57),  # a float gives 56.99999999999999; exact gives 57
        (700, "0.1", 7),
        (9_900_000_000, "0.05", 49_500_000),
        (10, "1", 1),
        (10_000, "0", 0),
    ],
)
def test_royalty_points_floor_exactly(line_total_fen, rate, points):
    assert royalty_points(line_total_fen, rate) == points


@pytest.mark.parametrize("line_total_fen", [0, -10, -10_000])
@pytest.mark.parametrize("rate", ["0.05", "0.1", "0.333"])
def test_no_royalty_on_zero_or_negative_totals(line_total_fen, rate):
    assert royalty_points(line_total_fen, rate) == 0
