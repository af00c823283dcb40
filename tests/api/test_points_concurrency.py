"""Points rules under concurrent requests, through a live `chalice local` on DynamoDB Local."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.helpers import uid


def parallel(n: int, call):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def test_twelve_parallel_grants_of_100_on_a_1000_budget_exactly_ten_succeed(live_api):
    campaign = uid("camp")
    assert (
        live_api.merch(
            "POST", "/admin/campaigns", {"campaign_id": campaign, "name": "Race", "budget_points": 1000}
        ).status
        == 201
    )
    users = [uid("u") for _ in range(12)]
    replies = parallel(
        12,
        lambda i: live_api.merch(
            "POST",
            f"/admin/campaigns/{campaign}/grants",
            {"user_id": users[i % 3], "points": 100, "reason": "race", "ref": f"r{i}"},
        ),
    )
    assert sorted(r.status for r in replies) == [201] * 10 + [409] * 2, [r.json for r in replies]
    assert {r.error_code for r in replies if r.status == 409} == {"budget_exhausted"}
    c = live_api.merch("GET", f"/admin/campaigns/{campaign}").json
    assert (c["issued_points"], c["remaining_points"]) == (1000, 0)
    balances = [live_api.get("/me", user=u).json["points"]["available"] for u in set(users[:3])]
    assert sum(balances) == 1000


def test_ten_parallel_task_awards_for_a_fan_stop_at_exactly_the_cap(live_api):
    fan = uid("fan")
    replies = parallel(
        10,
        lambda i: live_api.post(
            "/internal/points/earn",
            {"user_id": fan, "task": "comment", "ref": f"c{i}"},
            user="svc",
            groups=("service",),
        ),
    )
    assert all(r.status == 200 for r in replies), [r.json for r in replies]
    assert sum(r.json["points_awarded"] for r in replies) == 3
    me = live_api.get("/me", user=fan).json
    assert (me["earned_today"], me["points"]["available"]) == (3, 3)
    assert len(live_api.get("/me/points/ledger", user=fan).json["items"]) == 3


def test_parallel_check_ins_on_one_day_award_once(live_api):
    fan = uid("fan")
    replies = parallel(10, lambda _: live_api.post("/me/checkins", user=fan))
    assert sorted(r.status for r in replies) == [201] + [409] * 9, [r.json for r in replies]
    assert live_api.get("/me", user=fan).json["points"]["available"] == 2


def test_parallel_replays_of_one_grant_ref_pay_once(live_api):
    campaign, user = uid("camp"), uid("u")
    live_api.merch("POST", "/admin/campaigns", {"campaign_id": campaign, "name": "Replay", "budget_points": 10_000})
    replies = parallel(
        8,
        lambda _: live_api.merch(
            "POST",
            f"/admin/campaigns/{campaign}/grants",
            {"user_id": user, "points": 700, "reason": "once", "ref": "one-ref"},
        ),
    )
    assert all(r.status == 201 for r in replies) and len({r.json["grant_id"] for r in replies}) == 1
    assert live_api.get("/me", user=user).json["points"]["available"] == 700
    assert live_api.merch("GET", f"/admin/campaigns/{campaign}").json["issued_points"] == 700


def test_two_containers_whose_clocks_straddle_shanghai_midnight_never_pay_past_the_cap(services):
    """Container A already lives on the new Shanghai day, container B is 2 ms behind: every award, from either,
    counts against the new day's cap of 3, however the 64 requests interleave."""
    from chalicelib.bootstrap import Container
    from chalicelib.domain.points import EarnRequest
    from tests.helpers import FakeClock

    ahead, behind = FakeClock(), FakeClock()
    ahead.set("2026-11-24T16:00:00.001Z")  # 2026-11-25 00:00:00.001 in Shanghai
    behind.set("2026-11-24T15:59:59.999Z")  # 2026-11-24 23:59:59.999 in Shanghai
    a = Container(services.settings, clock=ahead, boto_session=services.boto_session)
    b = Container(services.settings, clock=behind, boto_session=services.boto_session)
    fan = uid("fan")
    a.points.check_in(fan)  # the new day has begun on this account: 2 of 3 earned

    def earn(i: int) -> int:
        container = (a, b)[i % 2]
        try:
            if i % 4 < 2:
                return container.points.check_in(fan).points_awarded
            body = EarnRequest(user_id=fan, task="comment", ref=f"c{i}")
            return container.points.earn(body).points_awarded
        except Exception as exc:  # already checked in today: 409, pays nothing
            assert getattr(exc, "code", "") == "already_checked_in", exc
            return 0

    paid = parallel(64, earn)
    me = a.points.me(fan)
    assert 2 + sum(paid) == 3 and me.points.available == 3, paid
    assert me.earned_today == 3
