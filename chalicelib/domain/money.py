"""Money and points: integers only. 1 point = 10 fen (100 points = ¥10)."""

from __future__ import annotations

FEN_PER_POINT = 10


def points_price(price_fen: int) -> int:
    """The exact points price of a fen price (prices are multiples of 10 fen)."""
    if price_fen % FEN_PER_POINT:
        raise ValueError(f"price {price_fen} fen is not a multiple of {FEN_PER_POINT}")
    return price_fen // FEN_PER_POINT
