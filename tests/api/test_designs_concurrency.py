"""Co-design rules under concurrent requests through a live `chalice local` on DynamoDB Local."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.helpers import uid


def parallel(n: int, call):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def new_design(live_api, designer: str) -> str:
    r = live_api.post(
        "/designs",
        {"title": "Race", "description": "d", "category": "tech", "image_urls": ["https://img.example/r.png"]},
        user=designer,
    )
    assert r.status == 201
    return r.json["design_id"]


def test_an_approval_sent_twice_at_once_pays_the_reward_once(live_api):
    designer = uid("designer")
    design_id = new_design(live_api, designer)
    replies = parallel(
        4, lambda _: live_api.merch("POST", f"/admin/designs/{design_id}/decision", {"decision": "approve"})
    )
    assert sorted(r.status for r in replies) == [200, 409, 409, 409], [r.json for r in replies]
    assert live_api.get("/me", user=designer).json["points"]["available"] == 2000
    assert len(live_api.get("/me/points/ledger", user=designer).json["items"]) == 1


def test_concurrent_votes_are_all_counted_once(live_api):
    designer = uid("designer")
    design_id = new_design(live_api, designer)
    live_api.merch("POST", f"/admin/designs/{design_id}/decision", {"decision": "approve"})
    voters = [uid("voter") for _ in range(12)]
    replies = parallel(24, lambda i: live_api.post(f"/designs/{design_id}/votes", user=voters[i % 12]))
    assert sorted(r.status for r in replies) == [201] * 12 + [409] * 12
    mine = live_api.get("/me/designs", user=designer).json["items"][0]
    assert mine["votes"] == 12


def test_eleven_concurrent_submissions_leave_exactly_ten_open(live_api):
    designer = uid("designer")
    replies = parallel(
        11,
        lambda i: live_api.post(
            "/designs",
            {"title": f"D{i}", "description": "d", "category": "home", "image_urls": ["https://img.example/x.png"]},
            user=designer,
        ),
    )
    assert sorted(r.status for r in replies) == [201] * 10 + [409]
    assert len(live_api.get("/me/designs?limit=50", user=designer).json["items"]) == 10


def test_concurrent_votes_of_different_weights_add_up_to_the_score(live_api):
    designer = uid("designer")
    design_id = new_design(live_api, designer)
    live_api.merch("POST", f"/admin/designs/{design_id}/decision", {"decision": "approve"})
    amounts = [0, 0, 0, 100, 100, 100, 1000, 1000, 1000, 10_000, 10_000, 10_000]  # weights 1, 2, 3, 4
    voters = [uid("voter") for _ in amounts]
    for voter, amount in zip(voters, amounts, strict=False):
        if amount:
            given = {"user_id": voter, "kind": "forum_answer", "ref": "seed", "amount": amount}
            assert live_api.post("/internal/contribution", given, user="svc", groups=("service",)).status == 201
    replies = parallel(24, lambda i: live_api.post(f"/designs/{design_id}/votes", user=voters[i % 12]))
    assert sorted(r.status for r in replies) == [201] * 12 + [409] * 12, [r.json for r in replies]
    assert sorted(r.json["weight"] for r in replies if r.status == 201) == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    mine = live_api.get("/me/designs", user=designer).json["items"][0]
    assert (mine["votes"], mine["score"]) == (12, 30)
    ranked = live_api.get("/designs?sort=score&category=tech&limit=100").json["items"]
    assert next(d["score"] for d in ranked if d["design_id"] == design_id) == 30
