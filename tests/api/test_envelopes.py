"""Points red envelopes through the HTTP API: sending, claiming, who may, bad input, and expiry."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import workers
from tests.api.shop import balance, give_points, make_owner
from tests.helpers import uid
from tools.reconcile import reconcile

NOW = "2026-12-01T02:00:00Z"


@pytest.fixture(autouse=True)
def pinned(clock):
    clock.set(NOW)
    return clock


def body(**over):
    return {"total_points": 1000, "shares": 10, "split": "random", "audience": {"kind": "link"}, **over}


def send(api, user, key=None, **over):
    return api.post("/envelopes", body(**over), user=user, headers={"Idempotency-Key": key or uid("env-key")})


@pytest.fixture
def sender(services):
    user = uid("boss")
    make_owner(services, user)
    give_points(services, user, 5000)
    return user


def claim(api, envelope_id, user, **kw):
    return api.post(f"/envelopes/{envelope_id}/claims", user=user, **kw)


def ledger_kinds(api, user):
    return [(e["kind"], e["delta"]) for e in api.get("/me/points/ledger", user=user).json["items"]]


def test_a_random_envelope_pays_out_exactly_its_total_one_share_each(api, services, sender):
    r = send(api, sender, greeting="新年快乐")
    assert r.status == 201, r.json
    env = r.json
    assert (env["total_points"], env["shares"], env["shares_left"], env["points_left"]) == (1000, 10, 10, 1000)
    assert (env["status"], env["greeting"], env["funded_by"]) == ("open", "新年快乐", "points")
    assert balance(api, sender)["available"] == 4000
    assert ledger_kinds(api, sender)[0] == ("envelope_sent", -1000)
    people = [uid("fan") for _ in range(10)]
    got = {}
    for n, person in enumerate(people):
        r = claim(api, env["envelope_id"], person)
        assert r.status == 201, r.json
        assert r.json["points"] >= 1 and r.json["available"] == r.json["points"]
        assert r.json["shares_left"] == 9 - n
        got[person] = r.json["points"]
        assert ledger_kinds(api, person) == [("envelope_claim", r.json["points"])]
    assert sum(got.values()) == 1000
    late = claim(api, env["envelope_id"], uid("late"))
    assert (late.status, late.error_code) == (409, "envelope_empty")
    again = claim(api, env["envelope_id"], people[0])
    assert (again.status, again.error_code, again.json["error"]["details"]["points"]) == (
        409,
        "already_claimed",
        got[people[0]],
    )

    seen = api.get(f"/envelopes/{env['envelope_id']}", user=people[3]).json
    assert (seen["status"], seen["shares_left"], seen["points_left"]) == ("empty", 0, 0)
    assert len(seen["claims"]) == 10 and sum(c["points"] for c in seen["claims"]) == 1000
    assert [c["user_id"] for c in seen["claims"] if c["user_id"]] == [people[3]], "others' ids stay hidden"
    assert seen["my_claim"]["points"] == got[people[3]]
    assert seen["luckiest"]["points"] == max(got.values())
    assert seen["audience"] == {"kind": "link", "user_ids": None, "size": None}
    assert (seen["sender_id"], seen["official"]) == (sender, False)
    by_sender = api.get(f"/envelopes/{env['envelope_id']}", user=sender).json
    assert {c["user_id"]: c["points"] for c in by_sender["claims"]} == got
    assert by_sender["luckiest"]["user_id"] in [p for p, v in got.items() if v == max(got.values())]
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_an_equal_split_gives_everyone_the_same_and_needs_a_multiple_of_shares(api, sender):
    env = send(api, sender, total_points=300, shares=3, split="equal").json
    assert [claim(api, env["envelope_id"], uid("fan")).json["points"] for _ in range(3)] == [100, 100, 100]
    r = send(api, sender, total_points=301, shares=3, split="equal")
    assert (r.status, r.error_code) == (400, "invalid_request")
    assert "300 or 303" in r.json["error"]["details"]["fields"]["total_points"]


def test_a_sender_cannot_claim_and_only_the_audience_may(api, services, sender):
    listed = [uid("friend") for _ in range(2)]
    env = send(api, sender, shares=2, audience={"kind": "users", "user_ids": listed}).json
    assert env["audience"] == {"kind": "users", "user_ids": sorted(listed), "size": 2}
    own = claim(api, env["envelope_id"], sender)
    assert (own.status, own.error_code) == (403, "own_envelope")
    stranger = uid("stranger")
    r = claim(api, env["envelope_id"], stranger)
    assert (r.status, r.error_code) == (403, "not_in_audience")
    assert api.get(f"/envelopes/{env['envelope_id']}", user=stranger).status == 403
    assert claim(api, env["envelope_id"], listed[0]).status == 201
    assert api.get(f"/envelopes/{env['envelope_id']}", user=listed[1]).json["audience"]["user_ids"] is None

    owners = send(api, sender, shares=2, audience={"kind": "owners"}).json
    fan = claim(api, owners["envelope_id"], uid("fan"))
    assert (fan.status, fan.error_code) == (403, "not_in_audience")
    owner = uid("owner")
    make_owner(services, owner)
    assert claim(api, owners["envelope_id"], owner).status == 201
    assert api.get("/envelopes/rp-000000000000000000000000", user=owner).status == 404
    assert claim(api, "rp-000000000000000000000000", owner).status == 404


def test_without_the_points_or_the_tier_nothing_is_written(api, services):
    poor = uid("poor")
    make_owner(services, poor)
    give_points(services, poor, 99)
    r = send(api, poor, total_points=100, shares=1)
    assert (r.status, r.error_code) == (409, "insufficient_points")
    assert r.json["error"]["details"] == {"available": 99, "required": 100}
    assert balance(api, poor)["available"] == 99 and ledger_kinds(api, poor) == [("grant", 99)]
    assert api.get("/me/envelopes", user=poor).json["items"] == []
    fan = uid("fan")
    give_points(services, fan, 1000)
    r = send(api, fan, total_points=100, shares=1)
    assert (r.status, r.error_code) == (403, "owner_only"), "fans cannot move points to other accounts"
    assert send(api, uid("newbie"), total_points=1, shares=1).error_code == "owner_only"
    assert reconcile(services.dynamodb, services.table)[1] == []


@pytest.mark.parametrize(
    "over, field",
    [
        ({"total_points": 9, "shares": 10}, "total_points"),
        ({"total_points": 0}, "total_points"),
        ({"total_points": -5}, "total_points"),
        ({"total_points": 1_000_001}, "total_points"),
        ({"shares": 0}, "shares"),
        ({"shares": 10_001, "total_points": 20_000}, "shares"),
        ({"shares": "10"}, "shares"),
        ({"split": "lucky"}, "split"),
        (
            {"audience": {"kind": "users", "user_ids": [f"u{i}" for i in range(501)]}, "shares": 1},
            "audience.users.user_ids",
        ),
        ({"audience": {"kind": "users", "user_ids": []}}, "audience.users.user_ids"),
        ({"audience": {"kind": "users", "user_ids": ["a", "b"]}, "shares": 3}, "audience"),
        ({"audience": {"kind": "everyone"}}, "audience"),
        ({"expires_in_s": -60}, "expires_in_s"),
        ({"expires_in_s": 59}, "expires_in_s"),
        ({"expires_in_s": 86_401}, "expires_in_s"),
        ({"greeting": "hi\u202eevil"}, "greeting"),
        ({"greeting": "x" * 101}, "greeting"),
        ({"total_points": 10.5}, "total_points"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_envelopes_are_refused_naming_the_field(api, sender, over, field):
    r = send(api, sender, **over)
    assert (r.status, r.error_code) == (400, "invalid_request"), r.json
    assert field in r.json["error"]["details"]["fields"], r.json
    assert balance(api, sender)["available"] == 5000


def test_the_sender_cannot_be_in_the_list_and_the_key_is_required(api, sender):
    r = send(api, sender, shares=1, audience={"kind": "users", "user_ids": [sender]})
    assert (r.status, r.json["error"]["details"]["fields"]) == (
        400,
        {"audience.user_ids": "must not include the sender"},
    )
    r = api.post("/envelopes", body(), user=sender)
    assert (r.status, r.error_code) == (400, "invalid_request")
    assert balance(api, sender)["available"] == 5000


def test_a_retried_send_is_charged_once_and_a_reused_key_with_another_body_is_refused(api, sender):
    first = send(api, sender, key="envelope-key-1")
    again = send(api, sender, key="envelope-key-1")
    assert (first.status, again.status) == (201, 201)
    assert again.json["envelope_id"] == first.json["envelope_id"]
    assert balance(api, sender)["available"] == 4000
    other = send(api, sender, key="envelope-key-1", total_points=999)
    assert (other.status, other.error_code) == (422, "idempotency_key_reused")
    assert [e["envelope_id"] for e in api.get("/me/envelopes", user=sender).json["items"]] == [
        first.json["envelope_id"]
    ]


def test_a_campaign_funds_a_merchandisers_envelope_and_gets_the_rest_back(api, pinned):
    assert (
        api.merch(
            "POST", "/admin/campaigns", {"campaign_id": "spring-rp", "name": "Spring", "budget_points": 3000}
        ).status
        == 201
    )
    r = api.merch(
        "POST",
        "/envelopes",
        body(total_points=2000, shares=4, campaign_id="spring-rp"),
        headers={"Idempotency-Key": uid("merch-env")},
    )
    assert r.status == 201, r.json
    assert (r.json["funded_by"], r.json["campaign_id"]) == ("campaign", "spring-rp")
    assert api.merch("GET", "/admin/campaigns/spring-rp").json["remaining_points"] == 1000
    over = api.merch(
        "POST",
        "/envelopes",
        body(total_points=1001, shares=4, campaign_id="spring-rp"),
        headers={"Idempotency-Key": uid("merch-env")},
    )
    assert (over.status, over.error_code) == (409, "budget_exhausted")
    unknown = api.merch(
        "POST", "/envelopes", body(campaign_id="no-such-campaign"), headers={"Idempotency-Key": uid("merch-env")}
    )
    assert (unknown.status, unknown.error_code) == (404, "not_found")
    fan = api.post(
        "/envelopes", body(campaign_id="spring-rp"), user=uid("fan"), headers={"Idempotency-Key": uid("fan-env")}
    )
    assert (fan.status, fan.error_code) == (403, "forbidden")
    lucky = uid("lucky")
    got = claim(api, r.json["envelope_id"], lucky).json["points"]
    seen = api.get(f"/envelopes/{r.json['envelope_id']}", user=lucky).json
    assert (seen["official"], seen["sender_id"], seen["campaign_id"]) == (True, None, None), "staff stay unnamed"
    assert any(a["action"] == "envelope.create" for a in api.merch("GET", "/admin/audit").json["items"])

    pinned.set("2026-12-02T02:00:01Z")
    assert workers.sweep_envelopes() == 1
    assert api.merch("GET", "/admin/campaigns/spring-rp").json["remaining_points"] == 3000 - got
    shown = api.merch("GET", f"/envelopes/{r.json['envelope_id']}").json
    assert (shown["status"], shown["refunded_points"], shown["shares_left"]) == ("expired", 2000 - got, 0)


def test_an_expired_envelope_refuses_claims_and_returns_the_rest_once(api, services, sender, pinned):
    env = send(api, sender, expires_in_s=60).json
    got = claim(api, env["envelope_id"], uid("quick")).json["points"]
    pinned.set("2026-12-01T02:01:00Z")
    late = claim(api, env["envelope_id"], uid("slow"))
    assert (late.status, late.error_code) == (410, "envelope_expired")
    assert api.get(f"/envelopes/{env['envelope_id']}", user=sender).json["status"] == "expired"
    with ThreadPoolExecutor(max_workers=2) as pool:  # two sweeps at once: the rest goes back once
        closed = list(pool.map(lambda _: services.envelopes.sweep(), range(2)))
    assert sorted(closed) == [0, 1]
    assert services.envelopes.sweep() == 0
    assert balance(api, sender)["available"] == 4000 + 1000 - got
    assert ledger_kinds(api, sender)[0] == ("envelope_refund", 1000 - got)
    assert api.get(f"/envelopes/{env['envelope_id']}", user=sender).json["refunded_points"] == 1000 - got
    pinned.set("2026-12-01T02:00:30Z")  # a claim whose clock runs behind still finds the envelope closed
    behind = claim(api, env["envelope_id"], uid("behind"))
    assert (behind.status, behind.error_code) == (410, "envelope_expired")
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_a_fully_claimed_envelope_returns_nothing_at_expiry(api, services, sender, pinned):
    env = send(api, sender, total_points=2, shares=2).json
    for _ in range(2):
        assert claim(api, env["envelope_id"], uid("fan")).status == 201
    pinned.set("2026-12-02T02:00:01Z")
    assert services.envelopes.sweep() == 1
    assert ledger_kinds(api, sender)[0] == ("envelope_sent", -2)
    shown = api.get(f"/envelopes/{env['envelope_id']}", user=sender).json
    assert (shown["status"], shown["refunded_points"]) == ("empty", 0)


def test_reconcile_finds_a_claim_that_was_paid_more_than_its_share(api, services, sender):
    env = send(api, sender, total_points=10, shares=2).json
    person = uid("fan")
    got = claim(api, env["envelope_id"], person).json["points"]

    def set_points(points):
        services.table.client.update_item(
            TableName=services.table.name,
            UpdateExpression="SET points = :p",
            Key={"pk": {"S": f"ENVCLAIM#{env['envelope_id']}#{person}"}, "sk": {"S": "META"}},
            ExpressionAttributeValues={":p": {"N": str(points)}},
        )

    set_points(got + 1)
    found = [d.describe() for d in reconcile(services.dynamodb, services.table)[1]]
    assert any(env["envelope_id"] in d and "match no share" in d for d in found), found
    set_points(got)  # the suite's final reconcile reads every table
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_claimants_have_another_name_on_each_envelope(api, services, sender):
    """A sender sees who claimed their envelope and under which name; on someone else's envelope the same person
    must not be recognisable by that name."""
    person = uid("fan")
    first = send(api, sender, total_points=2, shares=2).json
    other = uid("boss")
    make_owner(services, other)
    give_points(services, other, 100)
    second = send(api, other, total_points=2, shares=2).json
    for env in (first, second):
        assert claim(api, env["envelope_id"], person).status == 201
    mine = api.get(f"/envelopes/{first['envelope_id']}", user=sender).json["claims"][0]
    assert mine["user_id"] == person
    theirs = api.get(f"/envelopes/{second['envelope_id']}", user=uid("viewer")).json["claims"][0]
    assert theirs["user_id"] is None and theirs["claimant"] != mine["claimant"]


def test_an_account_sends_at_most_the_daily_limit_from_its_points(api, services, sender, pinned):
    give_points(services, sender, 30_000)
    assert send(api, sender, total_points=15_000, shares=10).status == 201
    r = send(api, sender, total_points=5_001, shares=10)
    assert (r.status, r.error_code) == (409, "send_limit_reached")
    assert r.json["error"]["details"] == {"limit": 20_000, "sent_today": 15_000, "day": "2026-12-01"}
    assert send(api, sender, total_points=5_000, shares=10).status == 201
    pinned.set("2026-12-01T16:00:00Z")  # midnight in Shanghai: a new day
    assert send(api, sender, total_points=1_000, shares=10).status == 201
    assert balance(api, sender)["available"] == 35_000 - 21_000
