"""Sixty-four ballots cast at once in one poll, sixteen of them replacing a ballot the same voter is casting at the
same moment: every voter counts once, with their last ballot, and the tallies on the shard items are exact."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.domain import polls as rules
from tests.api.shop import award
from tests.api.test_polls import COUNTED, create, join, vote
from tests.helpers import uid
from tools.reconcile import poll_differences

VOTERS, REPLACING = 48, 16


def test_sixty_four_ballots_at_once_some_replacing_leave_exact_tallies(api, services, clock):
    poll = create(api, clock, choices=2, weight_cap_share=0.05)
    voters = [uid("v") for _ in range(VOTERS)]
    for n, voter in enumerate(voters):
        if n % 4:  # a quarter have no contribution: weight 1
            assert award(api, voter, [5, 40, 700][n % 3]).status in (200, 201)
        else:
            join(api, voter)
    clock.set("2027-01-01T01:30:00.000Z")
    options = ["x", "y", "z"]
    first = [(v, [options[n % 3]]) for n, v in enumerate(voters)]
    second = [(v, [options[(n + 1) % 3], options[(n + 2) % 3]]) for n, v in enumerate(voters[:REPLACING])]
    with ThreadPoolExecutor(max_workers=32) as pool:
        replies = list(pool.map(lambda b: vote(api, poll, b[0], *b[1]), first + second))
    assert [r.status for r in replies] == [200] * (VOTERS + REPLACING), [r.json for r in replies if r.status != 200]

    ballots = list(services.polls._repo.ballots(poll["poll_id"]))
    assert len(ballots) == VOTERS, "one ballot per voter"
    tried = {v: [c for voter, c in first + second if voter == v] for v in voters}
    assert all(b["choices"] in tried[b["user_id"]] for b in ballots), "each voter's ballot is one they cast"
    assert any(b["version"] == 2 for b in ballots), "some replacements landed after the first ballot"
    shards = services.polls._repo.tallies(poll["poll_id"])
    assert len(shards) > 4, "the ballots spread over the poll's tally shards"

    clock.set(COUNTED)
    results = api.get(f"/polls/{poll['poll_id']}/results").json
    sums, recounted = rules.recount(services.polls._repo.get(poll["poll_id"]), ballots)
    assert results == recounted.model_dump(mode="json"), "shard sums + heaviest ballots = a recount of every ballot"
    assert results["turnout"] == VOTERS
    assert sum(o["voters"] for o in results["options"]) == sum(len(b["choices"]) for b in ballots)
    assert results["largest_share"] <= 0.05 and results["capped_voters"] > 0, "the 700s are capped at a twentieth"
    assert poll_differences(services.table) == []
