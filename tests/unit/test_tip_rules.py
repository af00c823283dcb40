"""Pure rules of tips: the burn's split, the smallest tip worth giving, account age, and the review's flows."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.domain.tips import TOP_FLOWS, flows, old_enough_at, smallest_tip, split_tip


@pytest.mark.parametrize(
    "points, rate, received, burned",
    [(100, "0.1", 90, 10), (15, "0.1", 13, 2), (1, "0.1", 0, 1), (7, "0", 7, 0), (7, "1", 0, 7), (3, "0.333333", 2, 1)],
)
def test_the_creator_gets_the_tip_less_its_burn_rounded_down(points, rate, received, burned):
    assert split_tip(points, rate) == (received, burned)


def test_the_smallest_tip_gives_the_creator_at_least_one_point():
    assert (smallest_tip("0"), smallest_tip("0.1"), smallest_tip("0.5"), smallest_tip("0.9")) == (1, 2, 2, 10)


def test_an_account_may_tip_min_days_after_it_was_first_seen():
    assert old_enough_at("2026-11-24T10:00:00.000Z", 7) == dt.datetime(2026, 12, 1, 10, tzinfo=dt.timezone.utc)


def test_flows_rank_the_largest_and_find_pairs_who_tipped_each_other():
    sums = {("a", "b"): (500, 2), ("b", "a"): (120, 1), ("c", "b"): (900, 3), ("d", "e"): (5, 1), ("e", "d"): (50, 1)}
    review = flows("2026-11-25", "2026-12-01", sums)
    assert [(f.from_user_id, f.to_user_id, f.points) for f in review.largest][:3] == [
        ("c", "b", 900),
        ("a", "b", 500),
        ("b", "a", 120),
    ]
    assert [(p.a, p.b, p.a_to_b, p.b_to_a, p.tips) for p in review.reciprocal] == [
        ("a", "b", 500, 120, 3),
        ("d", "e", 5, 50, 2),
    ]
    many = flows("x", "y", {(f"u{n}", "v"): (n, 1) for n in range(50)})
    assert len(many.largest) == TOP_FLOWS and many.largest[0].points == 49
