"""Community votes weighted by contribution through the API: a poll a merchandiser creates, ballots while it is open
with weights frozen at its opening, one ballot per voter, the results counted three ways after close, publishing,
who may vote, and bad input."""

from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo import LostRace
from chalicelib.adapters.polls_repo import tally_key
from chalicelib.domain.errors import PollNotOpen
from chalicelib.domain.polls import shard_of, tally_moves
from tests.api.shop import award, make_owner
from tests.helpers import uid
from tools.reconcile import poll_differences, reconcile

OPENS, CLOSES, COUNTED = "2027-01-01T01:00:00.000Z", "2027-01-01T02:00:00.000Z", "2027-01-01T02:01:00.000Z"


def poll_body(**overrides) -> dict:
    return {
        "poll_id": uid("poll").lower().replace("_", "-"),
        "title": "Where should the next NIO House open?",
        "title_zh": "下一家蔚来中心开在哪里？",
        "options": [{"option_id": o, "title": t} for o, t in (("x", "Xiamen"), ("y", "Yantai"), ("z", "Zhuhai"))],
        "choices": 1,
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "weighting": "contribution",
        "weight_cap_share": 0.5,
        **overrides,
    }


def create(api, clock, **overrides) -> dict:
    clock.set("2027-01-01T00:00:00.000Z")
    r = api.merch("POST", "/admin/polls", poll_body(**overrides))
    assert r.status == 201, r.json
    return r.json


def join(api, *users: str) -> None:
    """Accounts that exist before the poll opens (an account made after it opens needs a contribution by then)."""
    for user in users:
        assert api.get("/me", user=user).status == 200


def vote(api, poll: dict, user: str, *choices: str):
    return api.post(f"/polls/{poll['poll_id']}/ballots", {"choices": list(choices)}, user=user)


def test_ballots_weighted_by_contribution_at_opening_are_counted_three_ways_after_close(api, services, clock):
    whale, a, b, c = (uid(n) for n in ("whale", "a", "b", "c"))
    poll = create(api, clock)
    join(api, c)
    assert poll["status"] == "upcoming" and poll["weight_cap_share"] == 0.5
    for user, points in ((whale, 1000), (a, 10), (b, 10)):
        assert award(api, user, points).status in (200, 201)
    assert [p["poll_id"] for p in api.get("/polls").json["items"]] == [poll["poll_id"]]
    early = vote(api, poll, whale, "x")
    assert (early.status, early.error_code) == (409, "poll_not_open")

    clock.set("2027-01-01T01:10:00.000Z")
    award(api, whale, 5000)  # after the opening: changes nothing in this poll
    award(api, c, 500)
    assert api.get(f"/polls/{poll['poll_id']}").json["status"] == "open"
    cast = vote(api, poll, whale, "x")
    assert cast.status == 200, cast.json
    assert (cast.json["weight"], cast.json["contribution"], cast.json["version"]) == (1000, 1000, 1)
    assert vote(api, poll, a, "y").json["weight"] == 10
    assert vote(api, poll, b, "x").json["weight"] == 10
    replaced = vote(api, poll, b, "y")
    assert (replaced.json["choices"], replaced.json["version"]) == (["y"], 2), "a later ballot replaces the earlier"
    assert vote(api, poll, c, "z").json["weight"] == 1, "contribution 0 at the opening: weight 1"
    fresh = vote(api, poll, uid("fresh"), "z")
    assert (fresh.status, fresh.error_code) == (403, "not_eligible"), (
        "an account made after the opening, 0 contribution"
    )
    assert api.get(f"/polls/{poll['poll_id']}/ballot", user=whale).json["weight"] == 1000
    assert api.get(f"/polls/{poll['poll_id']}/ballot", user=uid("nobody")).status == 404
    turnout = api.merch("GET", f"/admin/polls/{poll['poll_id']}/turnout").json
    assert (turnout["voters"], turnout["weight"], turnout["status"]) == (4, 1021, "open")
    early = api.get(f"/polls/{poll['poll_id']}/results")
    assert (early.status, early.error_code) == (409, "too_soon")

    clock.set(CLOSES)
    late = vote(api, poll, a, "x")
    assert (late.status, late.error_code) == (409, "poll_not_open")
    for early in (
        api.get(f"/polls/{poll['poll_id']}/results"),
        api.merch("POST", f"/admin/polls/{poll['poll_id']}/publish"),
    ):
        assert (early.status, early.error_code) == (409, "too_soon"), "ballots still committing get a minute"

    clock.set(COUNTED)
    results = api.get(f"/polls/{poll['poll_id']}/results").json
    # the whale's 1000 is capped at 21, exactly half of 21 + 10 + 10 + 1
    assert {o["option_id"]: (o["voters"], o["equal"], o["weighted"], o["quadratic"]) for o in results["options"]} == {
        "x": (1, 1, 21, 4.582),
        "y": (2, 2, 20, 6.324),
        "z": (1, 1, 1, 1.0),
    }
    assert [o["option_id"] for o in results["options"]] == ["x", "y", "z"], "by the poll's weighting"
    assert (results["turnout"], results["weight"], results["largest_share"], results["cap"]) == (4, 42, 0.5, 21)
    clock.set("2027-01-01T02:05:00.000Z")
    published = api.merch("POST", f"/admin/polls/{poll['poll_id']}/publish")
    assert published.status == 200 and published.json["published_at"] == "2027-01-01T02:05:00.000Z"
    assert {**published.json, "published_at": None} == results
    again = api.merch("POST", f"/admin/polls/{poll['poll_id']}/publish")
    assert (again.status, again.error_code) == (409, "invalid_status_transition")
    assert api.get(f"/polls/{poll['poll_id']}").json["status"] == "published"
    assert api.get(f"/polls/{poll['poll_id']}/results").json == published.json
    audit = [i["action"] for i in api.merch("GET", "/admin/audit?limit=100").json["items"]]
    assert {"poll.created", "poll.published"} <= set(audit)
    assert [d.describe() for d in reconcile(services.dynamodb, services.table)[1]] == []


def test_an_equal_poll_counts_everyone_once_whatever_their_contribution(api, clock):
    whale, a = uid("whale"), uid("a")
    poll = create(api, clock, weighting="equal", weight_cap_share=1)
    join(api, a)
    award(api, whale, 1000)
    clock.set("2027-01-01T01:30:00.000Z")
    assert vote(api, poll, whale, "x").json["weight"] == 1
    vote(api, poll, a, "y")
    clock.set(COUNTED)
    results = api.get(f"/polls/{poll['poll_id']}/results").json
    assert [(o["option_id"], o["weighted"]) for o in results["options"]] == [("x", 1), ("y", 1), ("z", 0)]
    assert results["largest_share"] == 0.5


def test_who_may_vote_is_decided_by_tier_and_by_contribution_at_the_opening(api, services, clock):
    owner, late_earner, fan = uid("owner"), uid("late"), uid("fan")
    poll = create(api, clock, eligibility={"min_tier": "owner", "min_contribution": 100})
    for user in (owner, late_earner):
        make_owner(services, user)
    award(api, owner, 100)
    award(api, fan, 500)
    clock.set("2027-01-01T01:05:00.000Z")
    award(api, late_earner, 1000)  # after the opening: does not qualify
    assert vote(api, poll, owner, "x").status == 200
    for user in (late_earner, fan):
        r = vote(api, poll, user, "x")
        assert (r.status, r.error_code) == (403, "not_eligible"), user
    assert api.get(f"/polls/{poll['poll_id']}/ballot", user=fan).status == 404, "nothing was written"


def test_ballots_and_polls_refuse_bad_input(api, clock):
    poll = create(api, clock, choices=2)
    pid = poll["poll_id"]
    again = api.merch("POST", "/admin/polls", poll_body(poll_id=pid))
    assert (again.status, again.error_code) == (409, "already_exists")
    bad_polls = [
        {"options": [{"option_id": "x", "title": "X"}]},
        {"options": [{"option_id": "x", "title": "X"}, {"option_id": "x", "title": "X again"}]},
        {"choices": 4},
        {"closes_at": OPENS},
        {"opens_at": "2027-01-01T01:00:00"},
        {"opens_at": "2026-12-31T23:00:00.000Z"},
        {"weight_cap_share": 0},
        {"opens_at": "9999-12-31T20:00:00-05:00", "closes_at": "9999-12-31T21:00:00-05:00"},
        {"opens_at": "2028-06-01T00:00:00Z", "closes_at": "2028-06-02T00:00:00Z"},  # more than a year ahead
        {"weighting": "plutocracy"},
        {"eligibility": {"min_tier": "vip"}},
        {"title": "Line\u202eone"},
    ]
    for overrides in bad_polls:
        r = api.merch("POST", "/admin/polls", poll_body(**overrides))
        assert (r.status, r.error_code) == (400, "invalid_request"), overrides
    assert api.post("/admin/polls", poll_body(), user=uid("fan")).status == 403
    clock.set("2027-01-01T01:30:00.000Z")
    voter = uid("v")
    for choices in ([], ["x", "x"], ["x", "y", "z"], ["w"], "x"):
        r = api.post(f"/polls/{pid}/ballots", {"choices": choices}, user=voter)
        assert (r.status, r.error_code) == (400, "invalid_request"), choices
    assert api.post(f"/polls/{pid}/ballots", {"choices": ["x"]}).status == 401
    assert api.post("/polls/no-such-poll/ballots", {"choices": ["x"]}, user=voter).status == 404
    assert api.get("/polls/no-such-poll/results").status == 404
    assert api.get(f"/polls/{pid}/ballot", user=voter).status == 404, "nothing was written"
    assert api.merch("GET", f"/admin/polls/{pid}/turnout").json["voters"] == 0


@pytest.mark.parametrize("path", ["/admin/polls/x/turnout", "/admin/polls/x/publish"])
def test_merchandiser_routes_need_the_role(api, path):
    method = "POST" if path.endswith("publish") else "GET"
    assert api.call(method, path, user=uid("fan")).status == 403


def test_reconcile_finds_a_tally_shard_that_differs_from_the_ballots(api, services, clock):
    poll = create(api, clock)
    clock.set("2027-01-01T01:30:00.000Z")
    voter = uid("v")
    vote(api, poll, voter, "y")
    shard = tally_key(poll["poll_id"], shard_of(voter))
    table = services.table
    table.client.update_item(TableName=table.name, Key=shard, UpdateExpression="ADD #w :n",
                             ExpressionAttributeNames={"#w": "w|y"}, ExpressionAttributeValues={":n": {"N": "5"}})  # fmt: skip
    try:
        assert [d.describe() for d in poll_differences(table)] == [
            f"poll {poll['poll_id']}: tally shards differ from the ballots on ['w|y']",
            f"poll {poll['poll_id']}: its results differ from a recount of its ballots",
        ]
    finally:
        table.client.update_item(TableName=table.name, Key=shard, UpdateExpression="ADD #w :n",
                                 ExpressionAttributeNames={"#w": "w|y"}, ExpressionAttributeValues={":n": {"N": "-5"}})  # fmt: skip
    assert poll_differences(table) == []


def test_once_counted_the_tally_shards_are_sealed_and_a_late_ballot_is_refused(api, services, clock):
    poll = create(api, clock)
    early, straggler = uid("v"), uid("late")
    join(api, straggler)
    award(api, early, 5)
    clock.set("2027-01-01T01:30:00.000Z")
    assert vote(api, poll, early, "x").status == 200
    repo = services.polls._repo
    stale = repo.tallies(poll["poll_id"])
    assert vote(api, poll, straggler, "y").status == 200  # lands after the shards were read for a count
    tx = repo.begin()
    repo.seal(tx, poll["poll_id"], stale, "{}", "2027-01-01T02:01:00.000Z")
    with pytest.raises(LostRace):
        tx.commit()
    clock.set(COUNTED)
    counted = api.get(f"/polls/{poll['poll_id']}/results").json
    assert counted["turnout"] == 2
    # a ballot read before close whose write arrives only now, after the count: refused, nothing written
    ballot = {"poll_id": poll["poll_id"], "user_id": uid("slow"), "choices": ["z"], "weight": 1, "contribution": 0,
              "cast_at": "2027-01-01T01:59:59.999Z", "updated_at": "2027-01-01T01:59:59.999Z", "version": 1}  # fmt: skip
    tx = repo.begin()
    repo.cast(tx, None, ballot, tally_moves(None, ballot), on_sealed=PollNotOpen("sealed"))
    with pytest.raises(PollNotOpen):
        tx.commit()
    assert api.get(f"/polls/{poll['poll_id']}/results").json == counted
    assert poll_differences(services.table) == []
