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
