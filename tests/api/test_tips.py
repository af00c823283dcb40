"""Tips to creators (打赏): the creator gets the tip less its burn, both balances move in one transaction, and the
policy's caps, the account's age and the tip's target are checked before anything is written."""

from __future__ import annotations

import pytest

from tests.api.shop import give_points, make_owner
from tests.helpers import uid

T0 = "2026-11-20T02:00:00Z"  # the sender's account is made here
NOW = "2026-12-01T02:00:00Z"  # 10:00 in Shanghai, eleven days later


@pytest.fixture
def designer(api, clock):
    clock.set(T0)
    who = uid("designer")
    body = {
        "title": "Constellation Tumbler",
        "description": "A steel tumbler etched with the night sky over Hefei.",
        "category": "home",
        "image_urls": ["https://img.example/d/1.png"],
        "proposed_price_fen": 12900,
    }
    design = api.post("/designs", body, user=who).json
    assert api.merch("POST", f"/admin/designs/{design['design_id']}/decision", {"decision": "approve"}).status == 200
    clock.set(NOW)
    return who, design["design_id"]


def sender(services, clock, points: int = 1_000, owner: bool = False) -> str:
    who = uid("fan")
    clock.set(T0)
    give_points(services, who, points)
    if owner:
        make_owner(services, who)
    clock.set(NOW)
    return who


def tip(api, who: str, to: str, points: int, ref: dict, key: str | None = None, **extra):
    body = {"to_user_id": to, "points": points, "ref": ref, **extra}
    return api.post("/tips", body, user=who, headers={"Idempotency-Key": key or uid("tip")})


def available(api, who: str) -> int:
    return api.get("/me", user=who).json["points"]["available"]


def test_a_tip_gives_the_designer_ninety_percent_and_burns_the_rest_once(api, services, clock, designer):
    creator, design_id = designer
    before = available(api, creator)
    fan = sender(services, clock)
    ref = {"kind": "design", "id": design_id}
    r = tip(api, fan, creator, 100, ref, key="thanks-0001", message="太好看了")
    assert r.status == 201, r.json
    assert (r.json["points"], r.json["received"], r.json["burned"], r.json["available"]) == (100, 90, 10, 900)
    again = tip(api, fan, creator, 100, ref, key="thanks-0001", message="太好看了")
    assert again.status == 201 and again.json["tip_id"] == r.json["tip_id"]
    assert available(api, fan) == 900 and available(api, creator) == before + 90
    other = tip(api, fan, creator, 101, ref, key="thanks-0001")
    assert other.status == 422 and other.error_code == "idempotency_key_reused"
    sent = api.get("/me/points/ledger?limit=1", user=fan).json["items"][0]
    got = api.get("/me/points/ledger?limit=1", user=creator).json["items"][0]
    assert (sent["kind"], sent["delta"], got["kind"], got["delta"]) == ("tip_sent", -100, "tip_received", 90)
    assert sent["ref"] == got["ref"] == f"tip:{r.json['tip_id']}"


def test_a_hosts_published_event_takes_tips_too(api, services, clock):
    host = uid("host")
    make_owner(services, host)
    clock.set(NOW)
    body = {
        "title": "ES8 owners' meet-up",
        "title_zh": "ES8 车主见面会",
        "description": "Coffee and a drive.",
        "city": "Shanghai",
        "venue": "NIO House Jing'an",
        "starts_at": "2026-12-20T02:00:00Z",
        "ends_at": "2026-12-20T05:00:00Z",
        "capacity": 5,
        "fee_fen": 0,
    }
    event = api.post("/events", body, user=host).json
    ref = {"kind": "event", "id": event["event_id"]}
    fan = sender(services, clock)
    assert tip(api, fan, host, 50, ref).status == 404  # not published yet
    assert api.merch("POST", f"/admin/events/{event['event_id']}/decision", {"decision": "approve"}).status == 200
    r = tip(api, fan, host, 50, ref)
    assert r.status == 201 and r.json["received"] == 45


@pytest.mark.parametrize(
    "case, status, code",
    [
        ("self", 422, "self_tip"),
        ("unknown user", 404, "not_found"),
        ("unknown design", 404, "not_found"),
        ("someone else's design", 422, "not_the_creator"),
        ("a day-old account", 403, "account_too_new"),
        ("over the fan's 200 a day", 409, "tip_limit_reached"),
        ("more than available", 409, "insufficient_points"),
        ("1 point burns it all", 400, "invalid_request"),
    ],
)
def test_each_rule_refuses_with_its_4xx_and_nothing_moves(api, services, clock, designer, case, status, code):
    creator, design_id = designer
    fan = sender(services, clock, points=150 if case == "more than available" else 1_000)
    to, ref, points = creator, {"kind": "design", "id": design_id}, 100
    if case == "self":
        to = fan
    elif case == "unknown user":
        to = uid("nobody")
    elif case == "unknown design":
        ref["id"] = "d-unknown"
    elif case == "someone else's design":
        to = sender(services, clock)
    elif case == "a day-old account":
        fan = uid("new")
        give_points(services, fan, 1_000)  # made today
    elif case == "over the fan's 200 a day":
        assert tip(api, fan, creator, 150, ref).status == 201
        points = 51
    elif case == "more than available":
        points = 151
    elif case == "1 point burns it all":
        points = 1
    balances = (available(api, fan), available(api, creator))
    r = tip(api, fan, to, points, ref)
    assert (r.status, r.error_code) == (status, code), r.json
    assert (available(api, fan), available(api, creator)) == balances
    if case == "a day-old account":
        assert r.json["error"]["details"]["min_account_age_days"] == 7
    if case == "1 point burns it all":
        assert r.json["error"]["details"]["fields"]["points"] == "at least 2"


def test_a_creator_receives_at_most_the_daily_receive_cap(api, services, clock, designer):
    creator, design_id = designer
    owners = [sender(services, clock, 5_000, owner=True) for _ in range(5)]
    ref = {"kind": "design", "id": design_id}
    replies = [tip(api, o, creator, 5_000, ref) for o in owners]
    assert [r.status for r in replies] == [201] * 4 + [409]
    assert replies[-1].error_code == "receive_limit_reached" and replies[-1].json["error"]["details"]["left_today"] == 0
    clock.set("2026-12-01T16:00:00Z")  # midnight in Shanghai: a new day
    assert tip(api, owners[-1], creator, 5_000, ref).status == 201


@pytest.mark.parametrize(
    "change, field",
    [
        ({"points": 0}, "points"),
        ({"points": 100_001}, "points"),
        ({"to_user_id": "a b"}, "to_user_id"),
        ({"ref": {"kind": "product", "id": "x"}}, "ref.kind"),
        ({"message": "hi\u202e"}, "message"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_tip_is_400_naming_the_field(api, services, clock, designer, change, field):
    creator, design_id = designer
    fan = sender(services, clock)
    body = {"to_user_id": creator, "points": 10, "ref": {"kind": "design", "id": design_id}, **change}
    r = api.post("/tips", body, user=fan, headers={"Idempotency-Key": uid("k")})
    assert r.status == 400 and field in r.json["error"]["details"]["fields"], r.json
    assert available(api, fan) == 1_000


@pytest.mark.streams
def test_flows_show_the_largest_and_reciprocal_pairs_and_the_report_counts_the_burn(api, services, clock, designer):
    from tools.reconcile import reconcile
    from tools.streams import outbox_poller

    creator, design_id = designer
    a = sender(services, clock, owner=True)
    b_design = api.post(
        "/designs",
        {
            "title": "Starry Umbrella",
            "description": "An umbrella with the night sky inside.",
            "category": "travel",
            "image_urls": ["https://img.example/d/2.png"],
            "proposed_price_fen": 9900,
        },
        user=a,
    ).json["design_id"]
    api.merch("POST", f"/admin/designs/{b_design}/decision", {"decision": "approve"})
    assert tip(api, a, creator, 300, {"kind": "design", "id": design_id}).status == 201
    assert tip(api, a, creator, 200, {"kind": "design", "id": design_id}).status == 201
    give_points(services, creator, 1_000)
    assert tip(api, creator, a, 120, {"kind": "design", "id": b_design}).status == 201
    assert outbox_poller(services).poll() > 0
    r = api.merch("GET", "/admin/tips/flows?days=7")
    assert r.status == 200, r.json
    assert [(f["from_user_id"], f["points"], f["tips"]) for f in r.json["largest"]] == [(a, 500, 2), (creator, 120, 1)]
    pair = r.json["reciprocal"][0]
    assert {pair["a"], pair["b"]} == {a, creator} and pair["tips"] == 3
    assert sorted([pair["a_to_b"], pair["b_to_a"]]) == [120, 500]
    day = api.merch("GET", "/admin/points/report?from=2026-12-01&to=2026-12-01").json["days"][0]
    assert day["burned"] == 30 + 20 + 12
    assert api.get("/admin/tips/flows?days=31", user="m", groups=("merchandiser",)).status == 400
    assert api.get("/admin/tips/flows", user=a).status == 403
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_a_tip_from_the_gallery_names_no_user_and_never_learns_the_designers_id(api, services, clock, designer):
    creator, design_id = designer
    fan = sender(services, clock)
    gallery = api.get("/designs?limit=100").json["items"]
    gallery_name = next(d["designer_name"] for d in gallery if d["design_id"] == design_id)
    body = {"points": 20, "ref": {"kind": "design", "id": design_id}}
    r = api.post("/tips", body, user=fan, headers={"Idempotency-Key": uid("k")})
    assert r.status == 201, r.json
    assert (r.json["to_user_id"], r.json["to_name"], r.json["received"]) == (None, gallery_name, 18)
    assert creator not in str(r.json)
    own = api.post("/tips", body, user=creator, headers={"Idempotency-Key": uid("k")})
    assert own.status == 422 and own.error_code == "self_tip"
