"""Earning, tiers and the ledger through the API: caps, the Shanghai day, idempotency, balances."""

from __future__ import annotations

import pytest

from chalicelib.domain.points import vin_check_digit
from tools.reconcile import reconcile

SERVICE = ("service",)


def valid_vin(body: str = "LJ1E6A2U0N7000123") -> str:
    return body[:8] + vin_check_digit(body) + body[9:]


def make_owner(api, user: str) -> None:
    r = api.merch("PUT", f"/admin/users/{user}/tier", {"tier": "owner", "vin": valid_vin()})
    assert r.status == 200, r.json


def earn(api, user: str, task: str, ref: str):
    return api.post("/internal/points/earn", {"user_id": user, "task": task, "ref": ref}, user="svc", groups=SERVICE)


def test_check_in_once_per_shanghai_day(api, clock):
    clock.set("2026-11-23T15:59:00Z")  # 23:59 in Shanghai
    first = api.post("/me/checkins", user="fan-a")
    assert first.status == 201 and first.json == {"points_awarded": 2, "available": 2}
    again = api.post("/me/checkins", user="fan-a")
    assert again.status == 409 and again.error_code == "already_checked_in"
    clock.set("2026-11-23T16:00:00Z")  # 00:00 the next day in Shanghai
    assert api.post("/me/checkins", user="fan-a").json == {"points_awarded": 2, "available": 4}
    me = api.get("/me", user="fan-a").json
    assert me["earned_today"] == 2 and me["points"] == {"available": 4, "held": 0}


def test_task_awards_stop_at_the_tier_cap_partially_then_at_zero(api, clock):
    clock.set("2026-11-24T02:00:00Z")
    assert earn(api, "fan-b", "comment", "c1").json == {"points_awarded": 1}
    assert earn(api, "fan-b", "post", "p1").json == {"points_awarded": 2}  # 5 capped to what is left of 3
    assert earn(api, "fan-b", "share", "s1").json == {"points_awarded": 0}
    assert api.post("/me/checkins", user="fan-b").json == {"points_awarded": 0, "available": 3}
    me = api.get("/me", user="fan-b").json
    assert (me["earned_today"], me["daily_cap"], me["points"]["available"]) == (3, 3, 3)
    clock.set("2026-11-24T16:00:01Z")
    assert api.get("/me", user="fan-b").json["earned_today"] == 0
    assert earn(api, "fan-b", "share", "s2").json == {"points_awarded": 1}


def test_owners_have_a_higher_cap(api):
    make_owner(api, "own-a")
    awards = [earn(api, "own-a", "post", f"p{i}").json["points_awarded"] for i in range(5)]
    assert awards == [5, 5, 5, 5, 0]
    me = api.get("/me", user="own-a").json
    assert (me["tier"], me["daily_cap"], me["earned_today"]) == ("owner", 20, 20)


def test_the_same_task_ref_pays_once_and_returns_the_first_result(api):
    assert earn(api, "fan-c", "post", "post-77").json == {"points_awarded": 3}
    assert earn(api, "fan-c", "post", "post-77").json == {"points_awarded": 3}
    assert earn(api, "fan-c", "comment", "post-77").json == {"points_awarded": 0}
    ledger = api.get("/me/points/ledger", user="fan-c").json["items"]
    assert [(e["kind"], e["delta"], e["ref"]) for e in ledger] == [("earn", 3, "post:post-77")]


def test_earning_is_for_services_only_and_validates_input(api):
    body = {"user_id": "fan-d", "task": "post", "ref": "x1"}
    assert api.post("/internal/points/earn", body, user="merch", groups=("merchandiser",)).status == 403
    assert api.post("/internal/points/earn", body).status == 401
    for bad, field in [
        ({**body, "task": "Like!"}, "task"),
        ({**body, "user_id": "bad id!"}, "user_id"),
        ({**body, "ref": ""}, "ref"),
        ({**body, "points": 100}, "points"),
    ]:
        r = api.post("/internal/points/earn", bad, user="svc", groups=SERVICE)
        assert r.status == 400 and field in r.json["error"]["details"]["fields"], r.json
    # a well-formed name the policy in force does not have (tasks are data: DESIGN §5)
    r = api.post("/internal/points/earn", {**body, "task": "like"}, user="svc", groups=SERVICE)
    assert (r.status, r.error_code) == (422, "unknown_task") and "task" in r.json["error"]["details"]["fields"]


def test_owner_verification_needs_a_valid_vin_and_is_audited(api):
    for vin, hint in [
        (None, "vin is required"),
        ("LJ1E6A2U0N700012", "17 characters"),
        ("LJ1E6A2UON7000123", "except I, O and Q"),
        ("LJ1E6A2U" + ("1" if vin_check_digit("LJ1E6A2U0N7000123") != "1" else "2") + "N7000123", "check digit"),
    ]:
        r = api.merch("PUT", "/admin/users/own-b/tier", {"tier": "owner", "vin": vin})
        assert r.status == 400 and hint in r.json["error"]["details"]["fields"]["vin"], (vin, r.json)
    assert api.get("/me", user="own-b").json["tier"] == "fan"
    r = api.merch("PUT", "/admin/users/own-b/tier", {"tier": "owner", "vin": valid_vin().lower()})
    assert r.status == 200 and r.json["vin"] == valid_vin() and r.json["verified_by"] == "merch-t"
    assert api.get("/me", user="own-b").json["tier"] == "owner"
    entry = api.merch("GET", "/admin/audit").json["items"][0]
    assert (entry["action"], entry["entity_id"], entry["before"]["tier"], entry["after"]["tier"]) == (
        "user.tier",
        "own-b",
        "fan",
        "owner",
    )
    assert api.merch("PUT", "/admin/users/own-b/tier", {"tier": "deposit", "vin": valid_vin()}).status == 400
    assert api.merch("PUT", "/admin/users/own-b/tier", {"tier": "deposit"}).json["vin"] is None
    assert api.put("/admin/users/own-b/tier", {"tier": "owner", "vin": valid_vin()}, user="own-b").status == 403


def test_ledger_pages_newest_first_and_balance_equals_its_sum(api, services):
    api.merch("POST", "/admin/campaigns", {"campaign_id": "welcome", "name": "Welcome", "budget_points": 10_000})
    for i in range(5):
        assert (
            api.merch(
                "POST",
                "/admin/campaigns/welcome/grants",
                {"user_id": "fan-e", "points": 100 * (i + 1), "reason": "welcome", "ref": f"w{i}"},
            ).status
            == 201
        )
    seen, cursor = [], None
    while True:
        page = api.get("/me/points/ledger?limit=2" + (f"&cursor={cursor}" if cursor else ""), user="fan-e").json
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [e["delta"] for e in seen] == [500, 400, 300, 200, 100]
    assert [e["available_after"] for e in seen] == [1500, 1000, 600, 300, 100]
    assert api.get("/me", user="fan-e").json["points"]["available"] == sum(e["delta"] for e in seen)
    other = api.get(
        f"/me/points/ledger?cursor={api.get('/me/points/ledger?limit=1', user='fan-e').json['next_cursor']}",
        user="fan-f",
    )
    assert other.status == 400  # a cursor of someone else's ledger is refused
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_reconcile_reports_a_balance_that_does_not_match_its_ledger(api, services):
    earn(api, "fan-g", "post", "r1")
    services.dynamodb.update_item(
        TableName=services.table.name,
        Key={"pk": {"S": "USER#fan-g"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="SET points_available = :x",
        ExpressionAttributeValues={":x": {"N": "999"}},
    )
    checked, differences = reconcile(services.dynamodb, services.table)
    assert [(d.user_id, d.available, d.ledger_available) for d in differences] == [("fan-g", 999, 3)]
    services.dynamodb.update_item(
        TableName=services.table.name,  # undo, so the suite-wide check stays clean
        Key={"pk": {"S": "USER#fan-g"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="SET points_available = :x",
        ExpressionAttributeValues={":x": {"N": "3"}},
    )
    assert reconcile(services.dynamodb, services.table)[1] == []


@pytest.mark.parametrize("user", ["a" * 65, "bad.id"])
def test_tier_of_a_malformed_user_id_is_404(api, user):
    assert api.merch("PUT", f"/admin/users/{user}/tier", {"tier": "deposit"}).status == 404
