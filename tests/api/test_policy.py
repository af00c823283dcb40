"""The central bank's policy through the API: version 1 from the defaults, drafts with their diff, scheduling ahead
of time, the switch at effective_from, tasks as data, and the audit trail."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from tests.helpers import uid

SERVICE = ("service",)
NOW = "2026-12-06T02:00:00.000Z"  # 10:00 in Shanghai


def at(base: str, seconds: int) -> str:
    moment = dt.datetime.fromisoformat(base.replace("Z", "+00:00")) + dt.timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def pinned(clock):
    clock.set(NOW)
    return clock


def in_force(api) -> dict:
    r = api.merch("GET", "/admin/policy")
    assert r.status == 200, r.json
    return r.json


def draft(api, policy: dict, effective_from: str, note: str = "a new phase"):
    return api.merch(
        "POST", "/admin/policy/versions", {"policy": policy, "effective_from": effective_from, "note": note}
    )


def earn(api, user: str, task: str, ref: str):
    return api.post("/internal/points/earn", {"user_id": user, "task": task, "ref": ref}, user="svc", groups=SERVICE)


def test_a_fresh_shop_runs_version_1_from_its_defaults_with_the_seeds_tasks(api, pinned):
    overview = in_force(api)
    v1 = overview["in_force"]
    assert (v1["version"], v1["status"], overview["scheduled"]) == (1, "active", [])
    assert v1["policy"]["daily_caps"] == {"fan": 3, "deposit": 5, "owner": 20}
    tasks = api.merch("GET", "/admin/tasks").json
    assert tasks["version"] == 1
    by_name = {t["task"]: t for t in tasks["items"]}
    assert {"checkin", "post", "comment", "share", "feedback", "review"} <= set(by_name)
    assert {"charging", "clean_energy", "no_claim_year", "car_interaction"} <= set(by_name)
    assert by_name["post"]["capped"] and not by_name["charging"]["capped"]
    assert by_name["checkin"]["points"] == 2 and by_name["charging"]["tiers"] == ["owner"]
    history = api.merch("GET", "/admin/policy/versions").json
    assert [v["version"] for v in history["items"]] == [1]


def test_a_draft_shows_its_diff_against_the_version_that_would_be_in_force_then_and_changes_nothing(api, pinned):
    policy = copy.deepcopy(in_force(api)["in_force"]["policy"])
    policy["daily_caps"]["fan"] = 10
    policy["tasks"]["post"]["points"] = 8
    del policy["tasks"]["share"]
    r = draft(api, policy, at(NOW, 3600))
    assert r.status == 201, r.json
    assert (r.json["version"], r.json["status"], r.json["created_by"]) == (2, "draft", "merch-t")
    assert {(c["path"], str(c["before"]), str(c["after"])) for c in r.json["diff"]} == {
        ("daily_caps.fan", "3", "10"),
        ("tasks.post.points", "5", "8"),
        ("tasks.share", str(in_force(api)["in_force"]["policy"]["tasks"]["share"]), "None"),
    }
    assert in_force(api)["in_force"]["version"] == 1 and in_force(api)["scheduled"] == []
    history = api.merch("GET", "/admin/policy/versions").json["items"]
    assert [(v["version"], v["status"]) for v in history] == [(2, "draft"), (1, "active")]


def test_check_ins_either_side_of_an_effective_from_pay_the_old_and_the_new_caps(api, pinned):
    policy = copy.deepcopy(in_force(api)["in_force"]["policy"])
    policy["tasks"]["checkin"]["points"] = 7
    policy["daily_caps"]["fan"] = 10
    switch = "2026-12-06T16:00:00.000Z"  # midnight in Shanghai: a new day, and a new phase
    version = draft(api, policy, switch).json["version"]
    scheduled = api.merch("POST", f"/admin/policy/versions/{version}/schedule")
    assert scheduled.status == 200 and scheduled.json["status"] == "scheduled", scheduled.json
    assert [v["version"] for v in in_force(api)["scheduled"]] == [version]
    pinned.set("2026-12-06T15:59:59.999Z")
    assert api.post("/me/checkins", user="fan-p").json["points_awarded"] == 2
    assert api.get("/me", user="fan-p").json["daily_cap"] == 3
    pinned.set(switch)
    assert api.post("/me/checkins", user="fan-p").json["points_awarded"] == 7
    assert api.get("/me", user="fan-p").json["daily_cap"] == 10
    overview = in_force(api)
    assert (overview["in_force"]["version"], overview["in_force"]["status"], overview["scheduled"]) == (
        version,
        "active",
        [],
    )
    statuses = {v["version"]: v["status"] for v in api.merch("GET", "/admin/policy/versions").json["items"]}
    assert statuses == {version: "active", 1: "superseded"}


def test_a_version_is_scheduled_at_least_a_minute_ahead_once_and_never_changed(api, pinned):
    policy = in_force(api)["in_force"]["policy"]
    soon = draft(api, policy, at(NOW, 59)).json["version"]
    r = api.merch("POST", f"/admin/policy/versions/{soon}/schedule")
    assert (r.status, r.error_code) == (409, "too_soon")
    past = draft(api, policy, at(NOW, -3600)).json["version"]
    assert api.merch("POST", f"/admin/policy/versions/{past}/schedule").error_code == "too_soon"
    ok = draft(api, policy, at(NOW, 60)).json["version"]
    assert api.merch("POST", f"/admin/policy/versions/{ok}/schedule").status == 200
    again = api.merch("POST", f"/admin/policy/versions/{ok}/schedule")
    assert (again.status, again.error_code) == (409, "conflict")
    twin = draft(api, policy, at(NOW, 60)).json["version"]  # the very same instant as another version
    assert api.merch("POST", f"/admin/policy/versions/{twin}/schedule").error_code == "too_soon"
    assert api.merch("POST", "/admin/policy/versions/999/schedule").status == 404
    assert api.merch("POST", "/admin/policy/versions/x1/schedule").status == 404


def test_rolling_back_is_scheduling_a_copy_of_an_earlier_version(api, pinned):
    first = in_force(api)["in_force"]["policy"]
    richer = copy.deepcopy(first)
    richer["daily_caps"]["fan"] = 50
    v2 = draft(api, richer, at(NOW, 120)).json["version"]
    api.merch("POST", f"/admin/policy/versions/{v2}/schedule")
    back = draft(api, first, at(NOW, 600), "roll back to version 1").json
    assert [c["path"] for c in back["diff"]] == ["daily_caps.fan"]  # against v2, in force at that time
    api.merch("POST", f"/admin/policy/versions/{back['version']}/schedule")
    pinned.set(at(NOW, 300))
    assert in_force(api)["in_force"]["version"] == v2
    pinned.set(at(NOW, 600))
    now = in_force(api)["in_force"]
    assert (now["version"], now["policy"]["daily_caps"]["fan"]) == (back["version"], 3)


def test_every_step_is_in_the_audit_log(api, pinned):
    policy = in_force(api)["in_force"]["policy"]
    version = draft(api, policy, at(NOW, 3600), "audited").json["version"]
    api.merch("POST", f"/admin/policy/versions/{version}/schedule")
    entries = api.merch("GET", "/admin/audit").json["items"]
    actions = [(e["action"], e["entity_id"]) for e in entries if e["action"].startswith("policy.")]
    assert ("policy.draft", str(version)) in actions and ("policy.schedule", str(version)) in actions


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda p: p["daily_caps"].update(fan=-1), "daily_caps"),
        (lambda p: p["daily_caps"].pop("owner"), "daily_caps"),
        (lambda p: p["daily_caps"].update(vip=5), "daily_caps"),
        (lambda p: p["tasks"].pop("checkin"), "policy"),
        (lambda p: p["tasks"]["post"].update(per_day=0), "per_day"),
        (lambda p: p["tasks"]["post"].update(tiers=["gold"]), "tiers"),
        (lambda p: p["tasks"].update({"Bad Name": p["tasks"]["post"]}), "tasks"),
        (lambda p: p.update(royalty_rate="1.5"), "royalty_rate"),
        (lambda p: p.update(expiry={"months": 61}), "months"),
        (lambda p: p.update(surprise=1), "surprise"),
    ],
)
def test_a_bad_policy_is_400_naming_the_field_and_nothing_is_written(api, pinned, change, field):
    policy = copy.deepcopy(in_force(api)["in_force"]["policy"])
    change(policy)
    r = draft(api, policy, at(NOW, 3600))
    assert (r.status, r.error_code) == (400, "invalid_request"), r.json
    assert field in str(r.json["error"]["details"])
    assert [v["version"] for v in api.merch("GET", "/admin/policy/versions").json["items"]] == [1]


@pytest.mark.parametrize("when", ["2026-12-06T10:00:00", "tomorrow", "1999-01-01T00:00:00Z"])
def test_an_effective_from_without_a_zone_or_out_of_range_is_400(api, pinned, when):
    r = draft(api, in_force(api)["in_force"]["policy"], when)
    assert (r.status, r.error_code) == (400, "invalid_request") and "effective_from" in str(r.json)


def test_a_huge_policy_is_refused_before_it_is_read(api, pinned):
    policy = copy.deepcopy(in_force(api)["in_force"]["policy"])
    policy["tasks"]["post"]["title"] = "x" * 10_000_000
    r = draft(api, policy, at(NOW, 3600))
    assert r.status in (400, 413) and r.error_code in ("invalid_request", "payload_too_large")


def test_only_merchandisers_see_or_change_the_policy(api, pinned):
    assert api.get("/admin/policy", user="fan-x").status == 403
    assert api.post("/admin/policy/versions", {}, user="fan-x").status == 403
    assert api.get("/admin/tasks").status == 401


def test_tasks_are_data_unknown_ones_are_422_and_uncapped_ones_have_their_own_per_day(api, pinned):
    r = earn(api, "fan-t", "moonwalk", "m1")
    assert (r.status, r.error_code) == (422, "unknown_task")
    assert earn(api, "fan-t", "checkin", "c1").error_code == "unknown_task"  # paid by POST /me/checkins
    owner = uid("own")
    api.merch("PUT", f"/admin/users/{owner}/tier", {"tier": "owner", "vin": "LJ1E6A2U5N7000001"})
    paid = [earn(api, owner, "charging", f"session-{n}").json["points_awarded"] for n in range(5)]
    assert paid == [2, 2, 2, 0, 0]  # per_day 3; not capped by the owner's daily cap of 20 either
    assert earn(api, owner, "charging", "session-1").json["points_awarded"] == 2  # a replay: the first answer
    assert api.get("/me", user=owner).json["earned_today"] == 0  # uncapped tasks leave the cap alone
    assert earn(api, "fan-t", "charging", "s1").json["points_awarded"] == 0  # an owners' task


def test_a_task_pays_its_contribution_in_the_same_transaction(api, pinned):
    policy = copy.deepcopy(in_force(api)["in_force"]["policy"])
    policy["tasks"]["feedback"]["contribution"] = 3
    version = draft(api, policy, at(NOW, 120)).json["version"]
    api.merch("POST", f"/admin/policy/versions/{version}/schedule")
    pinned.set(at(NOW, 120))
    assert earn(api, "fan-c", "feedback", "f1").json["points_awarded"] == 3
    assert earn(api, "fan-c", "feedback", "f1").json["points_awarded"] == 3  # replayed: no second contribution
    assert api.get("/me", user="fan-c").json["contribution"] == 3


def test_a_dry_run_replays_the_last_days_under_a_draft_against_what_was_issued(api, services, pinned):
    """Fans earned under caps of 3; a draft raising the fan cap to 10 and a post to 8 would have issued more, and
    a referral reward of 300 instead of 200. The figures add up from the ledger, and nothing changes."""
    for user in ("fan-d1", "fan-d2"):
        api.post("/me/checkins", user=user)  # 2 each
        earn(api, user, "post", f"{user}-p1")  # 1 left of the cap of 3
        earn(api, user, "post", f"{user}-p2")  # 0
    api.merch("POST", "/admin/referrals", {"referrer_id": "fan-d1", "referee_id": uid("ref"), "kind": "test_drive"})
    pinned.set(at(NOW, 86_400))  # the next day: two days in the window
    api.post("/me/checkins", user="fan-d1")
    ledger = services.user_repo.ledger_sums
    issued_before = sum(ledger(u)[0] for u in ("fan-d1", "fan-d2"))
    policy = copy.deepcopy(in_force(api)["in_force"]["policy"])
    policy["daily_caps"]["fan"] = 10
    policy["tasks"]["post"]["points"] = 8
    policy["referral_points"]["test_drive"] = 300
    version = draft(api, policy, at(NOW, 200_000)).json["version"]
    r = api.merch("POST", f"/admin/policy/versions/{version}/dry-run?days=2")
    assert r.status == 200, r.json
    rows = {row["source"]: row for row in r.json["sources"]}
    assert (rows["earn"]["issued"], rows["earn"]["would_issue"]) == (2 * 3 + 2, 2 * (2 + 8) + 2)  # cap 10: 2 + 8 + 0
    assert (rows["referral"]["issued"], rows["referral"]["would_issue"]) == (200, 300)
    assert r.json["issued"] == issued_before, "what it says was issued is what the ledger holds"
    assert r.json["change"] == 14 + 100 and r.json["liability_change_fen"] == 1140
    assert (r.json["first_day"], r.json["last_day"]) == ("2026-12-06", "2026-12-07")
    assert api.merch("POST", f"/admin/policy/versions/{version}/dry-run?days=91").status == 400
    assert api.merch("POST", "/admin/policy/versions/77/dry-run").status == 404
    assert sum(ledger(u)[0] for u in ("fan-d1", "fan-d2")) == issued_before
