"""Crowds grabbing one red envelope through a live `chalice local` on DynamoDB Local: never a share twice, never a
point more than the total, once per person."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.adapters.dynamo import key
from chalicelib.adapters.envelopes_repo import shard_key
from tests.api.shop import give_points, make_owner
from tests.helpers import uid
from tools.reconcile import reconcile


def parallel(n: int, call):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def drop(live_api, services, total: int, shares: int) -> dict:
    boss = uid("boss")
    make_owner(services, boss)
    give_points(services, boss, total)
    r = live_api.post(
        "/envelopes",
        {"total_points": total, "shares": shares, "audience": {"kind": "link"}},
        user=boss,
        headers={"Idempotency-Key": uid("drop")},
    )
    assert r.status == 201, r.json
    return r.json


def grab(live_api, envelope_id: str, people: list[str]):
    return parallel(len(people), lambda i: live_api.post(f"/envelopes/{envelope_id}/claims", user=people[i]))


def test_forty_people_grabbing_twenty_shares_get_exactly_twenty_that_sum_to_the_total(live_api, live_server):
    services = live_server["container"]
    env = drop(live_api, services, 888, 20)
    replies = grab(live_api, env["envelope_id"], [uid("fan") for _ in range(40)])
    assert sorted(r.status for r in replies) == [201] * 20 + [409] * 20, [r.json for r in replies if r.status >= 500]
    assert {r.error_code for r in replies if r.status == 409} == {"envelope_empty"}
    assert sum(r.json["points"] for r in replies if r.status == 201) == 888
    assert all(r.json["points"] >= 1 for r in replies if r.status == 201)
    shown = live_api.get(f"/envelopes/{env['envelope_id']}", user=env["sender_id"]).json
    assert (shown["status"], shown["shares_left"], len(shown["claims"])) == ("empty", 0, 20)
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_one_person_tapping_sixteen_times_at_once_gets_one_share(live_api, live_server):
    services = live_server["container"]
    env = drop(live_api, services, 500, 5)
    me = uid("tapper")
    replies = parallel(16, lambda i: live_api.post(f"/envelopes/{env['envelope_id']}/claims", user=me))
    assert sorted(r.status for r in replies) == [201] + [409] * 15, [r.json for r in replies]
    assert {r.error_code for r in replies if r.status == 409} == {"already_claimed"}
    got = next(r.json["points"] for r in replies if r.status == 201)
    assert live_api.get("/me", user=me).json["points"]["available"] == got
    assert live_api.get(f"/envelopes/{env['envelope_id']}", user=me).json["shares_left"] == 4


def test_two_hundred_people_on_a_hundred_shares_over_several_shards_are_paid_exactly(live_api, live_server):
    services = live_server["container"]
    env = drop(live_api, services, 10_000, 100)
    count = services.table.get(key(f"ENVELOPE#{env['envelope_id']}", "META"))["shard_count"]
    assert count > 1, "100 shares spread over shard items"
    people = [uid("crowd") for _ in range(200)]
    replies = grab(live_api, env["envelope_id"], people)
    assert sorted(r.status for r in replies) == [201] * 100 + [409] * 100, [r.json for r in replies if r.status >= 500]
    assert sum(r.json["points"] for r in replies if r.status == 201) == 10_000
    shards = [services.table.get(shard_key(env["envelope_id"], k)) for k in range(count)]
    assert all(s["taken"] == len(s["amounts"]) == len(s["claimed"]) for s in shards), "every share taken once"
    winners = [p for p, r in zip(people, replies, strict=False) if r.status == 201]
    assert sum(live_api.get("/me", user=p).json["points"]["available"] for p in winners) == 10_000
    assert reconcile(services.dynamodb, services.table)[1] == []
