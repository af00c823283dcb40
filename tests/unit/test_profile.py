"""A user's account without a server: balances after ledger entries, earning under the day's cap, and the profile
read from its stored item."""

from __future__ import annotations

import dataclasses

import pytest

from chalicelib.adapters.dynamo import from_item, to_item
from chalicelib.adapters.users_repo import to_profile, typed_profile
from chalicelib.domain.points import Entry, Profile


def test_balances_after_entries_are_the_sum_of_their_deltas():
    profile = Profile(user_id="u", points_available=5000, points_held=0, version=7)
    after = profile.posted([Entry(-1500, "hold", "order:a", 1500), Entry(-200, "spend", "order:b")])
    assert (after.points_available, after.points_held, after.version) == (3300, 1500, 7)
    assert (profile.points_available, profile.points_held) == (5000, 0), "the profile read is not changed"


@pytest.mark.parametrize(
    ("earned_day", "earned_today", "task_points", "award", "earned_after"),
    [
        ("2026-11-24", 0, 2, 2, 2),  # first award of the day
        ("2026-11-24", 2, 2, 1, 3),  # capped: only what is left of 3
        ("2026-11-24", 3, 5, 0, 3),  # at the cap: 0, never an error
        ("2026-11-23", 3, 2, 2, 2),  # a new Shanghai day starts from 0
    ],
)
def test_earning_is_capped_per_day(earned_day, earned_today, task_points, award, earned_after):
    profile = Profile(user_id="u", points_available=10, earned_day=earned_day, earned_today=earned_today)
    paid, after = profile.awarded("2026-11-24", task_points, daily_cap=3)
    assert paid == award
    assert (after.earned_day, after.earned_today, after.points_available) == ("2026-11-24", earned_after, 10 + award)


def test_a_clock_behind_the_profiles_earning_day_counts_against_that_later_day():
    profile = Profile(user_id="u", earned_day="2026-11-25", earned_today=2)
    paid, after = profile.awarded("2026-11-24", 2, daily_cap=3)  # a container 2 ms behind midnight
    assert (paid, after.earned_day, after.earned_today) == (1, "2026-11-25", 3)


def test_a_profile_read_from_its_item_is_the_one_its_constructor_makes():
    fields = {
        "user_id": "u-1",
        "tier": "pro",
        "points_available": 700,
        "points_held": 30,
        "earned_day": "2027-01-02",
        "earned_today": 40,
        "version": 9,
        "vin": "LNBSCCAK0PD000001",
        "lots": {"2027-01": 730},
    }
    item = to_item({"pk": "USER#u-1", "sk": "PROFILE", **fields})
    made = typed_profile(item)
    assert made == Profile(**fields) == to_profile(from_item(item))
    assert (made.stored, made.lapsed, made.sent_today, made.lots_run) == (True, None, 0, "")  # what it never stored
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.points_available = 1  # type: ignore[misc]


def test_an_item_without_a_user_id_is_refused_not_read_as_a_profile():
    with pytest.raises(ValueError):
        typed_profile(to_item({"pk": "USER#u-1", "sk": "PROFILE", "tier": "fan"}))
