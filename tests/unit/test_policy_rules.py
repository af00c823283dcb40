"""The issuance policy's pure rules: which version is in force at an instant, what a version's status is, when a
version may be scheduled, the diff a merchandiser reviews, and what a task pays."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.policy import (
    Policy,
    Scheduled,
    TaskRule,
    diff,
    first_policy,
    in_force,
    iso_instant,
    schedule_problem,
    status_at,
    task_award,
)

FOREVER = "2000-01-01T00:00:00.000Z"
SCHEDULE = [Scheduled(1, FOREVER), Scheduled(2, "2026-12-06T16:00:00.000Z"), Scheduled(3, "2027-01-01T00:00:00.000Z")]


def v1() -> Policy:
    return first_policy(
        {"fan": 3, "deposit": 5, "owner": 20},
        {"checkin": 2, "post": 5, "comment": 1, "share": 1, "feedback": 5},
        {"test_drive": 200, "purchase": 12_000},
        2000,
        "0.05",
        "0.75",
        20_000,
    )


@pytest.mark.parametrize(
    "at, version",
    [
        ("2026-12-06T15:59:59.999Z", 1),
        ("2026-12-06T16:00:00.000Z", 2),  # the effective_from itself belongs to the new version
        ("2026-12-31T23:59:59.999Z", 2),
        ("2027-01-01T00:00:00.000Z", 3),
        ("2099-01-01T00:00:00.000Z", 3),
    ],
)
def test_the_version_in_force_is_the_latest_that_took_effect_at_or_before_the_instant(at, version):
    assert in_force(SCHEDULE, at).version == version


def test_statuses_follow_the_clock():
    now = "2026-12-10T00:00:00.000Z"
    assert [status_at(s, SCHEDULE, now) for s in SCHEDULE] == ["superseded", "active", "scheduled"]


@pytest.mark.parametrize(
    "effective_from, problem",
    [
        ("2026-12-06T10:00:59.998Z", "at least 60 s ahead"),  # 59.999 s ahead
        ("2026-12-06T09:00:00.000Z", "at least 60 s ahead"),
        ("2026-12-06T16:00:00.000Z", "that very instant"),
    ],
)
def test_a_version_is_scheduled_a_minute_ahead_at_an_instant_of_its_own(effective_from, problem):
    assert problem in schedule_problem(SCHEDULE, effective_from, "2026-12-06T09:59:59.999Z")


def test_a_minute_ahead_at_a_free_instant_may_be_scheduled():
    assert schedule_problem(SCHEDULE, "2026-12-06T10:01:00.000Z", "2026-12-06T10:00:00.000Z") is None


def test_the_diff_names_each_changed_lever_and_a_task_added_or_removed_once():
    before = v1()
    after = before.model_copy(deep=True)
    after.daily_caps["owner"] = 30
    after.tasks["post"].points = 8
    after.tasks["kudos"] = after.tasks.pop("share")
    changes = {c.path: (c.before, c.after) for c in diff(before, after)}
    assert changes["daily_caps.owner"] == (20, 30) and changes["tasks.post.points"] == (5, 8)
    assert changes["tasks.share"][1] is None and changes["tasks.kudos"][0] is None
    assert len(changes) == 4
    assert diff(before, before) == []


def test_version_1_holds_the_seeds_community_and_car_life_tasks():
    tasks = v1().tasks
    assert {n for n, t in tasks.items() if t.capped} == {"checkin", "post", "comment", "share", "feedback", "review"}
    assert {n for n, t in tasks.items() if not t.capped} == {
        "charging",
        "clean_energy",
        "no_claim_year",
        "car_interaction",
    }
    assert tasks["checkin"].points == 2 and tasks["checkin"].per_day == 1


def task(**kw) -> TaskRule:
    fields = {"title": "T", "title_zh": "任务", "points": 5, "capped": True, "per_day": 3, "tiers": ["fan", "owner"]}
    return TaskRule(**{**fields, **kw})


@pytest.mark.parametrize(
    "rule, tier, earned, cap, paid",
    [
        (task(), "fan", 0, 3, 3),  # capped to what the day's cap leaves
        (task(), "fan", 3, 3, 0),
        (task(), "owner", 10, 20, 5),
        (task(), "deposit", 0, 5, 0),  # not a task for this tier
        (task(capped=False), "fan", 3, 3, 5),  # uncapped: the cap does not apply
    ],
)
def test_what_one_completion_pays(rule, tier, earned, cap, paid):
    assert task_award(rule, tier, earned, cap) == paid


def test_a_policy_must_pay_the_check_in_and_name_every_tiers_cap():
    p = v1().model_dump(mode="json")
    with pytest.raises(ValidationError, match="checkin"):
        Policy.model_validate({**p, "tasks": {k: v for k, v in p["tasks"].items() if k != "checkin"}})
    with pytest.raises(ValidationError, match="missing owner"):
        Policy.model_validate({**p, "daily_caps": {"fan": 1, "deposit": 1}})


@pytest.mark.parametrize(
    "value, expected",
    [("2027-01-01T00:00:00+08:00", "2026-12-31T16:00:00.000Z"), ("2027-01-01T00:00:00Z", "2027-01-01T00:00:00.000Z")],
)
def test_effective_dates_are_stored_as_utc_instants(value, expected):
    assert iso_instant(value) == expected


@pytest.mark.parametrize("value", ["2027-01-01T00:00:00", "2101-01-01T00:00:00Z", "soon"])
def test_an_effective_date_needs_a_zone_and_a_sane_year(value):
    with pytest.raises(ValueError):
        iso_instant(value)


def done(user: str, task: str, at: str, paid: int, tier: str = "fan", day: str = "2026-12-06"):
    from chalicelib.domain.policy import Completion

    return Completion(user, task, tier, day, at, paid)


def test_a_replay_takes_each_users_day_in_order_with_the_new_caps_per_day_and_tiers():
    from chalicelib.domain.policy import replay

    policy = v1().model_copy(deep=True)
    policy.daily_caps["fan"] = 6
    completions = [
        done("a", "post", "2026-12-06T02:00:03Z", 0),  # third in order: the cap of 6 is used up by then
        done("a", "checkin", "2026-12-06T02:00:01Z", 2),
        done("a", "post", "2026-12-06T02:00:02Z", 1),
        done("b", "charging", "2026-12-06T02:00:01Z", 0),  # an owners' task: a fan gets nothing
        done("c", "charging", "2026-12-06T02:00:01Z", 2, tier="owner"),
        *[done("c", "charging", f"2026-12-06T03:00:0{n}Z", 2, tier="owner") for n in range(4)],  # per_day 3
    ]
    # a: checkin 2, post 4 (cap 6), post 0; c: three charges of 2, uncapped
    assert replay(completions, policy) == 2 + 4 + 0 + 3 * 2


def test_a_reprice_scales_rates_and_swaps_fixed_rewards():
    from chalicelib.domain.policy import LeverEntry, reprice

    then, new = v1(), v1().model_copy(deep=True)
    new.royalty_rate, new.event_host_share, new.design_reward_points = "0.1", "0.5", 500
    new.referral_points.purchase = 15_000
    assert reprice(LeverEntry("royalty", "royalty:o:s", 49, "t"), then, new) == 98
    assert reprice(LeverEntry("reversal", "royalty:o:s", -49, "t"), then, new) == -98
    assert reprice(LeverEntry("event_reward", "e", 750, "t"), then, new) == 500
    assert reprice(LeverEntry("design_reward", "design:d", 2000, "t"), then, new) == 500
    assert reprice(LeverEntry("referral", "referral:purchase:u9", 12_000, "t"), then, new) == 15_000
