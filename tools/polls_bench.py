"""`make bench`'s figures for a poll a crowd votes in at once, on a DynamoDB Local of its own: 600 voters, 200 of
them replacing their ballot, cast by 32 threads at once. The results must equal a recount of the ballots, and the
ballots' tally writes must spread over the poll's shard items (each voter's hash picks one): the busiest shard's
share of them, against 1/16. Each ballot's first cast also reads the voter's contribution at the opening (a Query),
so the ballots per second are the handler's whole work."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, ContextManager

from chalicelib.domain import polls as rules
from chalicelib.services.polls import count_results
from tools.burst_floor import on_fresh_store


def crowd(services: Any, voters: int = 600, replacing: int = 200, threads: int = 32) -> dict[str, Any]:
    for n in range(voters):  # accounts that exist before the poll is announced
        services.users.ensure_profile(f"bench-voter-{n}")
    for n in range(0, voters, 10):  # one voter in ten has a contribution score, a few of them heavy
        services.contribution.earn(f"bench-voter-{n}", "forum_answer", f"bench-{n}", 5 if n % 100 else 5000)
    now = services.clock.now()
    body = rules.PollInput.model_validate(
        {
            "poll_id": "bench-poll",
            "title": "Bench",
            "title_zh": "Bench",
            "options": [{"option_id": o, "title": o} for o in ("a", "b", "c", "d")],
            "choices": 2,
            "opens_at": now,
            "closes_at": now + dt.timedelta(hours=1),
            "weight_cap_share": 0.05,
        }
    )
    services.polls.create("bench-merch", body)
    options = ["a", "b", "c", "d"]
    casts = [(f"bench-voter-{n}", [options[n % 4]]) for n in range(voters)]
    casts += [(f"bench-voter-{n}", [options[(n + 1) % 4], options[(n + 2) % 4]]) for n in range(replacing)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda c: services.polls.cast(c[0], "bench-poll", rules.BallotInput(choices=c[1])), casts))
    elapsed = time.perf_counter() - started
    repo = services.polls._repo
    poll = repo.get("bench-poll")
    ballots = list(repo.ballots("bench-poll"))
    _, recounted = rules.recount(poll, ballots)
    counted = count_results(repo, poll)
    if counted != recounted or counted.turnout != voters:
        raise SystemExit(f"polls bench: results {counted} differ from the recount {recounted}")
    writes = Counter(rules.shard_of(user) for user, _ in casts)
    return {
        "ballots": len(casts),
        "voters": voters,
        "threads": threads,
        "seconds": round(elapsed, 2),
        "ballots_per_s": round(len(casts) / elapsed),
        "results_exact": True,
        "capped_voters": counted.capped_voters,
        "largest_share": counted.largest_share,
        "shards_used": len(writes),
        "busiest_shard_share": round(max(writes.values()) / len(casts), 3),
        "even_share": round(1 / rules.TALLY_SHARDS, 3),
    }


def run(fresh: Callable[[], ContextManager[dict[str, str]]]) -> dict[str, Any]:
    return on_fresh_store(fresh, "bench-p", crowd)
