"""The contribution score under concurrent requests through a live `chalice local` on DynamoDB Local."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.helpers import uid

SERVICE = ("service",)


def parallel(n: int, call):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def award(live_api, user: str, amount: int, ref: str):
    return live_api.post(
        "/internal/contribution",
        {"user_id": user, "kind": "forum_answer", "ref": ref, "amount": amount},
        user="svc",
        groups=SERVICE,
    )


def test_sixteen_concurrent_awards_of_one_source_earn_once(live_api):
    user = uid("fan")
    replies = parallel(16, lambda i: award(live_api, user, 40 + i, "answer:1"))
    assert [r.status for r in replies] == [201] * 16, [r.json for r in replies]
    assert sum(r.json["created"] for r in replies) == 1
    assert len({r.json["entry"]["entry_id"] for r in replies}) == 1  # every reply names the one entry
    ledger = live_api.get("/me/contribution/ledger", user=user).json["items"]
    assert len(ledger) == 1
    assert live_api.get("/me", user=user).json["contribution"] == ledger[0]["amount"]


def test_concurrent_awards_of_different_sources_all_add_up(live_api):
    user = uid("fan")
    replies = parallel(12, lambda i: award(live_api, user, i + 1, f"answer:{i}"))
    assert all(r.status == 201 and r.json["created"] for r in replies), [r.json for r in replies]
    assert live_api.get("/me", user=user).json["contribution"] == sum(range(1, 13))
