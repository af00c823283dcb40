"""How an envelope's points are split and dealt over its shards (pure rules)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from chalicelib.domain.envelopes import deal, home_shard, largest, shard_count, split_points


@pytest.mark.parametrize(
    "total, shares",
    [(1, 1), (10, 10), (11, 10), (100, 3), (1000, 7), (1_000_000, 10_000), (10_000, 10_000), (10_001, 10_000), (2, 1)],
)
def test_a_random_split_gives_everyone_at_least_a_point_and_sums_exactly(total, shares):
    rng = random.Random(total * 31 + shares)
    for _ in range(20 if shares < 1000 else 2):
        amounts = split_points(total, shares, "random", rng)
        assert len(amounts) == shares and sum(amounts) == total and min(amounts) >= 1


class Unshuffled(random.Random):
    def shuffle(self, x, *args) -> None:  # type: ignore[override]
        """Keep the order drawn, to check each draw against what was left when it was made."""


def test_each_draw_stays_below_twice_the_mean_of_what_was_left():
    rng = Unshuffled(7)
    for _ in range(300):
        amounts, left = split_points(1000, 10, "random", rng), 1000
        for n, amount in zip(range(10, 1, -1), amounts, strict=False):
            assert 1 <= amount < 2 * left / n, (amounts, n)
            left -= amount
        assert amounts[-1] == left


def test_random_splits_vary_between_envelopes():
    rng = random.Random(11)
    firsts = Counter(split_points(1000, 10, "random", rng)[0] for _ in range(500))
    assert len(firsts) > 50


def test_an_equal_split_is_equal():
    assert split_points(300, 3, "equal", random.Random(1)) == [100, 100, 100]


def test_shards_hold_every_share_once_and_the_largest_is_found():
    amounts = [5, 1, 9, 2, 9, 3, 4]
    dealt = deal(amounts, 3)
    assert dealt == [[5, 2, 4], [1, 9], [9, 3]]
    assert sorted(a for shard in dealt for a in shard) == sorted(amounts)
    assert largest(dealt) == (1, 1), "the first of equal largest shares in dealing order"


@pytest.mark.parametrize("shares, expected", [(1, 1), (20, 1), (25, 1), (26, 2), (100, 4), (400, 16), (10_000, 16)])
def test_the_shard_count_grows_with_the_shares_up_to_the_maximum(shares, expected):
    assert shard_count(shares, 25, 16) == expected


def test_claimants_spread_evenly_over_home_shards():
    homes = Counter(home_shard(f"user-{i}", 16) for i in range(16_000))
    assert set(homes) == set(range(16)) and max(homes.values()) < 1.15 * 1000
    assert home_shard("user-1", 16) == home_shard("user-1", 16)
