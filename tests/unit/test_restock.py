"""How a sharded SKU's stock is laid out and moved by a merchandiser (pure rules)."""

from __future__ import annotations

import random

import pytest

from chalicelib.domain.catalog import restock, spread


def test_stock_is_spread_as_evenly_as_whole_units_go():
    assert spread(40, 16) == [3] * 8 + [2] * 8
    assert spread(3, 4) == [1, 1, 1, 0]


def test_a_restock_fills_the_emptiest_shards_and_a_cut_takes_from_the_fullest():
    assert restock({0: 5, 1: 0, 2: 2}, 4) == {0: 5, 1: 3, 2: 3}
    assert restock({0: 5, 1: 0, 2: 2}, -4) == {0: 1, 1: 0, 2: 2}
    assert restock({0: 1, 1: 1}, -3) is None, "more than the shards hold"


@pytest.mark.parametrize("seed", range(20))
def test_any_change_moves_exactly_delta_and_never_below_zero(seed):
    rng = random.Random(seed)
    for _ in range(200):
        shards = {k: rng.randint(0, 30) for k in range(rng.randint(1, 16))}
        delta = rng.choice([-1, 1]) * rng.randint(1, 200)
        after = restock(shards, delta)
        if after is None:
            assert sum(shards.values()) < -delta
            continue
        assert sum(after.values()) == sum(shards.values()) + delta and min(after.values()) >= 0
        moved = [after[k] - shards[k] for k in shards]
        assert all(m >= 0 for m in moved) if delta > 0 else all(m <= 0 for m in moved)
        if delta > 0:  # every shard that got units ends within one of the emptiest
            assert all(after[k] <= min(after.values()) + 1 for k in shards if after[k] > shards[k])
