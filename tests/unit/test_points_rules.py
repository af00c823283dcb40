"""Points rules: the daily cap, the Shanghai day, VINs and tier changes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pydantic import ValidationError

from chalicelib.domain.points import TierChange, capped_award, shanghai_day, vin_check_digit, vin_problem

UTC = dt.timezone.utc
VALID_CN_VIN = "LJ1E6A2U5N7000001"  # check digit 5: 236 % 11 (worked out in test_check_digit_by_hand)


# -- the daily cap ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task_points, earned_today, daily_cap, paid",
    [
        (10, 0, 100, 10),  # all of it
        (10, 90, 100, 10),  # all of it, reaching the cap exactly
        (10, 95, 100, 5),  # part of it
        (10, 99, 100, 1),
        (50, 60, 100, 40),
        (10, 100, 100, 0),  # at the cap
        (10, 150, 100, 0),  # over the cap: 0, never negative
        (10, 0, 0, 0),  # no cap room at all
        (0, 0, 100, 0),
    ],
)
def test_capped_award(task_points, earned_today, daily_cap, paid):
    assert capped_award(task_points, earned_today, daily_cap) == paid


def test_a_day_of_awards_never_exceeds_the_cap():
    earned = 0
    for _ in range(12):
        earned += capped_award(30, earned, 100)
    assert earned == 100


# -- the Shanghai day (UTC+8) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "moment, day",
    [
        (dt.datetime(2025, 3, 1, 15, 59, 59, 999_000, tzinfo=UTC), "2025-03-01"),
        (dt.datetime(2025, 3, 1, 15, 59, 59, 999_999, tzinfo=UTC), "2025-03-01"),
        (dt.datetime(2025, 3, 1, 16, 0, 0, tzinfo=UTC), "2025-03-02"),
        (dt.datetime(2025, 3, 1, 0, 0, 0, tzinfo=UTC), "2025-03-01"),
        (dt.datetime(2024, 12, 31, 16, 0, 0, tzinfo=UTC), "2025-01-01"),  # new year in Shanghai first
        (dt.datetime(2024, 2, 28, 16, 30, tzinfo=UTC), "2024-02-29"),  # leap day
        (dt.datetime(2025, 3, 2, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), "2025-03-02"),
        (dt.datetime(2025, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "2025-03-02"),  # 04:30 UTC
    ],
)
def test_shanghai_day(moment, day):
    assert shanghai_day(moment) == day


# -- VINs -------------------------------------------------------------------------------------


def test_check_digit_by_hand():
    # L J 1 E 6 A 2 U _ N 7 0 0 0 0 0 1 -> values 3 1 1 5 6 1 2 4 _ 5 7 0 0 0 0 0 1
    # weights 8 7 6 5 4 3 2 10 0 9 8 7 6 5 4 3 2 -> 24+7+6+25+24+3+4+40+45+56+2 = 236; 236 % 11 = 5
    assert vin_check_digit(VALID_CN_VIN) == "5"


@pytest.mark.parametrize(
    "vin, digit",
    [
        (VALID_CN_VIN, "5"),
        ("1M8GDM9AXKP042788", "X"),  # 351 % 11 = 10 -> X
        ("11111111111111111", "1"),  # the weights sum to 89; 89 % 11 = 1
        ("00000000000000000", "0"),
    ],
)
def test_vin_check_digit(vin, digit):
    assert vin_check_digit(vin) == digit


@pytest.mark.parametrize(
    "vin",
    [
        VALID_CN_VIN,
        "1M8GDM9AXKP042788",
        "11111111111111111",
        "00000000000000000",
        "WVWZZZ1JZ3W386752",
        "WDB1240221A123456",
        "JHMCM56557C404453",
    ],
)
def test_valid_vins_have_no_problem(vin):
    assert vin_problem(vin) is None


@pytest.mark.parametrize("ninth, expected", [("0", "5"), ("4", "5"), ("6", "5"), ("X", "5")])
def test_a_wrong_check_digit_names_the_right_one(ninth, expected):
    vin = VALID_CN_VIN[:8] + ninth + VALID_CN_VIN[9:]
    assert vin_problem(vin) == f"the check digit (9th character) should be {expected}"


@pytest.mark.parametrize(
    "vin, expected",
    [
        ("LJ1E6A2U5N7000002", "7"),  # +1 at weight 2: 238 % 11 = 7
        ("LJ1E6A2U5N7000011", "8"),  # +1 at weight 3: 239 % 11 = 8
        ("LK1E6A2U5N7000001", "1"),  # J(1) -> K(2) at weight 7: 243 % 11 = 1
        ("1M8GDM9A0KP042788", "X"),
    ],
)
def test_changing_another_character_moves_the_check_digit(vin, expected):
    assert vin_problem(vin) == f"the check digit (9th character) should be {expected}"


@pytest.mark.parametrize("vin", ["", "LJ1E6A2U5N700000", "LJ1E6A2U5N70000011", " LJ1E6A2U5N7000001"])
def test_a_vin_has_seventeen_characters(vin):
    assert vin_problem(vin) == "a VIN has exactly 17 characters"


@pytest.mark.parametrize(
    "vin",
    [
        "LJ1E6A2U5N70000I1",
        "LJ1E6A2U5N70000O1",
        "LJ1E6A2U5N70000Q1",
        "lj1e6a2u5n7000001",
        "LJ1E6A2U5N70000-1",
        "LJ1E6A2U5N70000 1",
    ],
)
def test_a_vin_uses_digits_and_capitals_but_not_i_o_q(vin):
    assert vin_problem(vin) == "a VIN uses digits and capital letters except I, O and Q"


@pytest.mark.parametrize(
    "vin, would_be",
    [
        ("WVWZZZ1JZ3W386752", "9"),
        ("WVWZZZ1JA3W386752", "9"),
        ("WVWZZZ1JX3W386752", "9"),
        ("WDB1240221A123456", "7"),
        ("VF1AAAAAAAA000001", "X"),
        ("SAJAAAAAAAA000001", "6"),
    ],
)
def test_european_vins_skip_the_check_digit(vin, would_be):
    # position 9 is not what the North American / Chinese rule would want, and that is fine in Europe
    assert vin_check_digit(vin) == would_be != vin[8]
    assert vin_problem(vin) is None
    # the same characters behind an L (China) are checked
    assert vin_problem("L" + vin[1:]) is not None


@pytest.mark.parametrize("first", list("12345L"))
def test_north_american_and_chinese_vins_check_the_digit(first):
    good = first + "1111111111111111"
    digit = vin_check_digit(good)
    wrong = "0" if digit != "0" else "1"
    vin = good[:8] + wrong + good[9:]
    assert vin_problem(vin) == f"the check digit (9th character) should be {vin_check_digit(vin)}"


# -- tier changes ------------------------------------------------------------------------------


def test_owner_with_a_valid_vin_is_accepted():
    assert TierChange.model_validate({"tier": "owner", "vin": VALID_CN_VIN}).vin == VALID_CN_VIN


def test_owner_vin_is_trimmed_and_upper_cased():
    assert TierChange.model_validate({"tier": "owner", "vin": "  lj1e6a2u5n7000001 "}).vin == VALID_CN_VIN


@pytest.mark.parametrize("tier", ["fan", "deposit"])
def test_other_tiers_need_no_vin(tier):
    change = TierChange.model_validate({"tier": tier})
    assert (change.tier, change.vin) == (tier, None)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"tier": "owner"}, "vin is required to verify an owner"),
        ({"tier": "owner", "vin": None}, "vin is required to verify an owner"),
        ({"tier": "owner", "vin": ""}, "vin is required to verify an owner"),
        ({"tier": "owner", "vin": "   "}, "vin is required to verify an owner"),
        ({"tier": "owner", "vin": "LJ1E6A2U0N7000001"}, "the check digit (9th character) should be 5"),
        ({"tier": "owner", "vin": "LJ1E6A2U5N700000"}, "a VIN has exactly 17 characters"),
        ({"tier": "owner", "vin": "LJ1E6A2U5N70000O1"}, "except I, O and Q"),
        ({"tier": "fan", "vin": VALID_CN_VIN}, "vin is only given for tier owner"),
        ({"tier": "deposit", "vin": VALID_CN_VIN}, "vin is only given for tier owner"),
        ({"tier": "owner", "vin": "L" * 33}, "at most 32 characters"),
        ({"tier": "admin"}, "tier"),
        ({"tier": "owner", "vin": VALID_CN_VIN, "extra": 1}, "extra"),
    ],
)
def test_tier_change_refusals(body, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        TierChange.model_validate(body)
