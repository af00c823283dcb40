"""Birthday care through the API: a birthday set once a year, and the policy's birthday points granted on the day
(Asia/Shanghai) from its campaign, once per user and year, never past the budget."""

from __future__ import annotations

import copy

import pytest

from chalicelib import workers
from tests.helpers import uid

NOW = "2026-12-06T02:00:00.000Z"


@pytest.fixture
def pinned(clock):
    clock.set(NOW)
    return clock


def with_birthday_points(api, clock, points: int, budget: int) -> str:
    """A campaign, and a policy version granting `points` on birthdays from it, in force a minute from now."""
    campaign = uid("bday")
    assert api.merch("POST", "/admin/campaigns", {"campaign_id": campaign, "name": "Birthdays",
                                                  "budget_points": budget}).status == 201  # fmt: skip
    policy = copy.deepcopy(api.merch("GET", "/admin/policy").json["in_force"]["policy"])
    policy["occasions"] = {"birthday": {"points": points, "campaign_id": campaign}}
    version = api.merch(
        "POST",
        "/admin/policy/versions",
        {"policy": policy, "effective_from": "2026-12-06T02:01:00Z", "note": "birthday care"},
    ).json["version"]
    assert api.merch("POST", f"/admin/policy/versions/{version}/schedule").status == 200
    return campaign


def balance(api, user: str) -> int:
    return api.get("/me", user=user).json["points"]["available"]


def test_a_birthday_is_set_shown_and_changed_at_most_once_a_year(api, pinned):
    assert api.get("/me/profile", user="fan-b1").json == {"user_id": "fan-b1", "birthday": None,
                                                          "changeable_from": None}  # fmt: skip
    r = api.put("/me/profile", {"birthday": "12-07"}, user="fan-b1")
    assert r.status == 200 and r.json["birthday"] == "12-07"
    assert r.json["changeable_from"] == "2027-12-06T02:00:00.000Z"
    assert api.put("/me/profile", {"birthday": "12-07"}, user="fan-b1").status == 200  # the same again: fine
    moved = api.put("/me/profile", {"birthday": "12-08"}, user="fan-b1")
    assert (moved.status, moved.error_code) == (409, "too_soon")
    assert moved.json["error"]["details"]["changeable_from"] == "2027-12-06T02:00:00.000Z"
    pinned.set("2027-12-06T02:00:00.000Z")
    assert api.put("/me/profile", {"birthday": "12-08"}, user="fan-b1").json["birthday"] == "12-08"


@pytest.mark.parametrize("birthday", ["02-30", "13-01", "1-5", "12-7x", "00-00"])
def test_a_birthday_that_is_not_a_day_is_400(api, pinned, birthday):
    r = api.put("/me/profile", {"birthday": birthday}, user="fan-b2")
    assert (r.status, r.error_code) == (400, "invalid_request") and "birthday" in str(r.json)
    assert api.get("/me/profile", user="fan-b2").json["birthday"] is None


def test_birthday_points_arrive_on_the_day_once_a_year_from_the_campaign(api, services, pinned):
    campaign = with_birthday_points(api, pinned, 88, 10_000)
    api.put("/me/profile", {"birthday": "01-10"}, user="fan-b3")  # 35 days ahead
    api.put("/me/profile", {"birthday": "01-11"}, user="fan-b4")
    pinned.set("2027-01-09T15:59:59.000Z")  # 23:59:59 on 01-09 in Shanghai: nobody's birthday yet
    assert workers.grant_birthdays() == 0
    pinned.set("2027-01-09T16:00:00.000Z")  # 00:00 on 01-10
    assert workers.grant_birthdays() == 1
    workers.grant_birthdays()  # the hourly run again: nothing twice
    assert (balance(api, "fan-b3"), balance(api, "fan-b4")) == (88, 0)
    assert api.merch("GET", f"/admin/campaigns/{campaign}").json["issued_points"] == 88
    pinned.set("2028-01-10T01:00:00.000Z")  # a year later: again
    workers.grant_birthdays()
    assert balance(api, "fan-b3") == 176


def test_a_birthday_set_just_before_the_day_waits_a_year(api, pinned):
    """A brand-new account cannot set tomorrow as its birthday and collect: a birthday counts from 30 days after
    it was set."""
    with_birthday_points(api, pinned, 88, 10_000)
    api.put("/me/profile", {"birthday": "12-07"}, user="fan-new")  # set on 12-06
    pinned.set("2026-12-07T01:00:00.000Z")
    assert workers.grant_birthdays() == 0 and balance(api, "fan-new") == 0
    pinned.set("2027-12-07T01:00:00.000Z")
    assert workers.grant_birthdays() == 1 and balance(api, "fan-new") == 88


def test_a_leap_day_birthday_is_celebrated_on_the_28th_in_other_years_and_the_budget_is_never_passed(
    api, services, pinned
):
    with_birthday_points(api, pinned, 100, 150)
    for user in ("fan-l1", "fan-l2"):
        api.put("/me/profile", {"birthday": "02-29"}, user=user)
    pinned.set("2027-02-28T04:00:00.000Z")
    assert workers.grant_birthdays() == 1, "the second grant would pass the budget of 150"
    assert sorted([balance(api, "fan-l1"), balance(api, "fan-l2")]) == [0, 100]


def test_without_birthday_points_in_the_policy_nothing_is_granted(api, pinned):
    api.put("/me/profile", {"birthday": "12-06"}, user="fan-b5")
    assert workers.grant_birthdays() == 0 and balance(api, "fan-b5") == 0
