"""The policy under concurrent requests, through a live `chalice local` on DynamoDB Local (its tables are shared by
the session, so the versions scheduled here take effect in 2098 and change nothing for other tests)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.helpers import uid

SERVICE = ("service",)


def parallel(n: int, call):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def test_two_merchandisers_scheduling_at_once_one_wins_the_other_is_told_to_reload(live_api):
    policy = live_api.merch("GET", "/admin/policy").json["in_force"]["policy"]
    for round_ in range(5):
        drafts = [
            live_api.merch(
                "POST",
                "/admin/policy/versions",
                {"policy": policy, "effective_from": f"2098-0{round_ + 1}-0{n + 1}T00:00:00Z", "note": f"race {n}"},
            ).json["version"]
            for n in range(2)
        ]
        replies = parallel(2, lambda i, d=drafts: live_api.merch("POST", f"/admin/policy/versions/{d[i]}/schedule"))
        # both may win one after the other; never both on the same schedule read (a lost update)
        assert sorted(r.status for r in replies) in ([200, 200], [200, 409]), [r.json for r in replies]
        assert all(r.error_code == "conflict" for r in replies if r.status == 409)
        scheduled = {v["version"] for v in live_api.merch("GET", "/admin/policy").json["scheduled"]}
        won = {d for d, r in zip(drafts, replies, strict=True) if r.status == 200}
        assert won <= scheduled and not (set(drafts) - won) & scheduled, "a refused schedule left nothing behind"


def test_ten_completions_of_a_task_at_once_are_paid_exactly_its_per_day(live_api):
    owner = uid("own")
    live_api.merch("PUT", f"/admin/users/{owner}/tier", {"tier": "owner", "vin": "LJ1E6A2U5N7000001"})
    per_day = next(t for t in live_api.merch("GET", "/admin/tasks").json["items"] if t["task"] == "charging")["per_day"]
    replies = parallel(
        10,
        lambda i: live_api.post(
            "/internal/points/earn",
            {"user_id": owner, "task": "charging", "ref": f"session-{i}"},
            user="svc",
            groups=SERVICE,
        ),
    )
    assert all(r.status == 200 for r in replies), [r.json for r in replies]
    paid = [r.json["points_awarded"] for r in replies if r.json["points_awarded"]]
    assert len(paid) == per_day
    assert live_api.get("/me", user=owner).json["points"]["available"] == sum(paid)


def test_earnings_racing_an_effective_from_never_pay_past_the_cap_in_force_at_each_instant(services):
    """Two containers, one a millisecond before a new version takes effect (fan cap 3) and one a millisecond after
    (fan cap 10), pay one fan's 64 task completions at once: the old side never pays past 3 in total, both sides
    together never past 10, and every point is in the ledger."""
    import copy

    from chalicelib.bootstrap import Container
    from chalicelib.domain.points import EarnRequest
    from chalicelib.domain.policy import VersionInput
    from tests.helpers import FakeClock

    switch = "2026-12-06T04:00:00.000Z"  # noon in Shanghai: the same earning day either side
    setup = FakeClock()
    setup.set("2026-12-06T03:00:00.000Z")
    admin = Container(services.settings, clock=setup, boto_session=services.boto_session)
    policy = copy.deepcopy(admin.policy.overview().in_force.policy.model_dump(mode="json"))
    policy["daily_caps"]["fan"] = 10
    draft = admin.policy.create("merch", VersionInput.model_validate({"policy": policy, "effective_from": switch,
                                                                      "note": "race"}))  # fmt: skip
    admin.policy.schedule("merch", draft.version)
    before, after = FakeClock(), FakeClock()
    before.set("2026-12-06T03:59:59.999Z")
    after.set(switch)
    # what is stored is judged, not how fast: a crowd on one profile item may keep DynamoDB Local busy past 5 s
    patient = services.settings.model_copy(update={"dynamodb_read_timeout_s": 20.0, "dynamodb_max_attempts": 3})
    old = Container(patient, clock=before, boto_session=services.boto_session)
    new = Container(patient, clock=after, boto_session=services.boto_session)
    fan = uid("fan")

    def earn(i: int) -> tuple[int, int]:
        side = i % 2
        body = EarnRequest(user_id=fan, task="comment", ref=f"c{i}")  # 1 point each, per_day 10
        return side, (old, new)[side].points.earn(body).points_awarded

    with ThreadPoolExecutor(max_workers=16) as pool:  # 64 completions, 16 in flight at any moment
        paid = list(pool.map(earn, range(64)))
    old_paid = sum(p for side, p in paid if side == 0)
    total = sum(p for _, p in paid)
    assert old_paid <= 3 and total == 10, paid
    assert services.user_repo.ledger_sums(fan) == (10, 0)
