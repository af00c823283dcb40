"""The contribution score through the API: awards once per source (internal), the ledger and /me."""

from __future__ import annotations

import pytest

from tests.api.shop import award, contribution, contribution_ledger
from tools.reconcile import reconcile

SERVICE = ("service",)


def test_a_source_earns_once_and_a_repeat_answers_with_the_first_entry(api):
    first = award(api, "fan-k", 30, ref="answer:9")
    assert first.status == 201 and first.json["created"] is True
    entry = first.json["entry"]
    assert (entry["user_id"], entry["kind"], entry["ref"], entry["amount"]) == ("fan-k", "forum_answer", "answer:9", 30)
    again = award(api, "fan-k", 500, ref="answer:9")  # a repeat, even with another amount, changes nothing
    assert again.status == 201 and again.json == {"entry": entry, "created": False}
    assert contribution(api, "fan-k") == 30
    assert contribution_ledger(api, "fan-k") == [("forum_answer", "answer:9", 30)]
    assert award(api, "fan-k", 5, kind="bug_report", ref="answer:9").json["created"] is True  # another source
    assert contribution(api, "fan-k") == 35
    assert api.get("/me", user="fan-k").json["points"] == {"available": 0, "held": 0}  # not points: not spendable


def test_awards_are_for_services_only(api):
    body = {"user_id": "fan-l", "kind": "forum_answer", "ref": "r1", "amount": 10}
    assert api.post("/internal/contribution", body).status == 401
    assert api.post("/internal/contribution", body, user="fan-l").error_code == "forbidden"
    assert api.post("/internal/contribution", body, user="m", groups=("merchandiser",)).status == 403
    assert contribution(api, "fan-l") == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"amount": 0}, "amount"),
        ({"amount": -50}, "amount"),
        ({"amount": 10_001}, "amount"),
        ({"amount": 10**30}, "amount"),
        ({"amount": "10"}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"kind": "design_approved"}, "kind"),
        ({"kind": "event_attended"}, "kind"),
        ({"kind": "Bad Kind"}, "kind"),
        ({"ref": ""}, "ref"),
        ({"ref": "x" * 129}, "ref"),
        ({"user_id": "no spaces"}, "user_id"),
        ({"user_id": None}, "user_id"),
        ({"bonus": 1}, "bonus"),
    ],
)
def test_bad_awards_are_400_naming_the_field_and_change_nothing(api, change, field):
    body = {"user_id": "fan-m", "kind": "forum_answer", "ref": "r1", "amount": 10, **change}
    r = api.post("/internal/contribution", body, user="svc", groups=SERVICE)
    assert (r.status, r.error_code) == (400, "invalid_request") and field in r.json["error"]["details"]["fields"]
    assert contribution(api, "fan-m") == 0


def test_the_ledger_pages_newest_first_and_the_score_is_its_sum(api, services, clock):
    for day, amount in ((1, 10), (2, 20), (3, 30)):
        clock.set(f"2026-05-0{day}T08:00:00Z")
        award(api, "fan-n", amount, ref=f"day-{day}")
    page = api.get("/me/contribution/ledger?limit=2", user="fan-n").json
    rest = api.get(f"/me/contribution/ledger?limit=2&cursor={page['next_cursor']}", user="fan-n").json
    assert [e["amount"] for e in page["items"] + rest["items"]] == [30, 20, 10] and rest["next_cursor"] is None
    assert page["items"][0]["created_at"] == "2026-05-03T08:00:00.000Z"
    assert contribution(api, "fan-n") == 60
    assert api.get("/me/contribution/ledger", user="someone-else").json["items"] == []
    bad = api.get("/me/contribution/ledger?cursor=tampered", user="fan-n")
    assert (bad.status, bad.error_code) == (400, "invalid_request")
    other = api.get(f"/me/contribution/ledger?cursor={page['next_cursor']}", user="someone-else")
    assert other.status == 400  # a cursor is bound to its own listing
    assert api.get("/me/contribution/ledger?limit=0", user="fan-n").status == 400
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_reconcile_reports_a_contribution_its_ledger_does_not_explain(api, services):
    award(api, "fan-q", 40)
    assert reconcile(services.dynamodb, services.table)[1] == []
    balance = {"pk": {"S": "USER#fan-q"}, "sk": {"S": "CONTRIBUTION"}}
    services.dynamodb.update_item(
        TableName=services.table.name,
        Key=balance,
        UpdateExpression="ADD contribution :x",
        ExpressionAttributeValues={":x": {"N": "1000"}},
    )
    found = reconcile(services.dynamodb, services.table)[1]
    assert [(d.user_id, d.contribution, d.ledger_contribution) for d in found] == [("fan-q", 1040, 40)]
    services.dynamodb.update_item(
        TableName=services.table.name,
        Key=balance,
        UpdateExpression="ADD contribution :x",
        ExpressionAttributeValues={":x": {"N": "-1000"}},
    )  # undo, for the suite-wide check
    assert reconcile(services.dynamodb, services.table)[1] == []
