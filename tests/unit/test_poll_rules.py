"""The rules of weighted polls: the cap on one voter's share, the moves a ballot makes on its shard, and results from
shard sums that equal a recount from the ballots."""

from __future__ import annotations

import random

import pytest

from chalicelib.domain import polls
from chalicelib.domain.errors import InvalidRequest, NotEligible, PollNotOpen, TooSoon

POLL = {
    "poll_id": "board-2027",
    "options": [{"option_id": o, "title": o.upper()} for o in ("a", "b", "c")],
    "choices": 2,
    "opens_at": "2027-01-01T00:00:00.000Z",
    "closes_at": "2027-01-08T00:00:00.000Z",
    "eligibility": {"min_tier": "deposit", "min_contribution": 10},
    "weighting": "contribution",
    "weight_cap_share": "0.5",
    "created_at": "2026-12-20T00:00:00.000Z",
}


def ballot(user: str, weight: int, *choices: str) -> dict:
    return {"user_id": user, "weight": weight, "choices": list(choices)}


def test_no_voter_holds_more_than_the_cap_and_the_rest_keep_their_weight():
    # 1000 against 10 + 10, at most half: the whale counts as 20, exactly half of 40
    assert polls.cap_of([1000, 10, 10], 1020, 3, 0.5) == 20
    # nobody is past 60% of 30: no cap
    assert polls.cap_of([15, 10, 5], 30, 3, 0.6) is None
    # two heavy voters over a 25% cap among many light ones: both capped at the same weight
    weights = [500, 400] + [10] * 20
    cap = polls.cap_of(weights, sum(weights), len(weights), 0.25)
    capped = [min(w, cap) for w in weights]
    assert cap == 100 and max(capped) / sum(capped) <= 0.25
    assert polls.cap_of([7], 7, 1, 1.0) is None, "1: no cap"


def test_with_fewer_voters_than_the_cap_allows_everyone_counts_as_the_lightest():
    # three voters cannot each hold at most 10%: the closest is one third each
    assert polls.cap_of([90, 30, 5], 125, 3, 0.1) == 5
    assert polls.cap_of([4, 4], 8, 2, 0.1) is None, "equal already"


@pytest.mark.parametrize("seed", range(40))
def test_the_capped_share_never_exceeds_the_cap_and_only_the_heaviest_are_needed(seed):
    rng = random.Random(seed)
    share = rng.choice([0.05, 0.1, 0.2, 0.25, 0.333, 0.5, 0.9])
    weights = sorted((rng.choice([1, 2, 5, 40, 300, 5000]) for _ in range(rng.randint(1, 60))), reverse=True)
    cap = polls.cap_of(weights, sum(weights), len(weights), share)
    top = weights[: polls.top_needed(share)]
    assert polls.cap_of(top, sum(weights), len(weights), share) == cap, "the heaviest few decide the cap"
    capped = [min(w, cap) if cap is not None else w for w in weights]
    if len(weights) * share >= 1:
        assert max(capped) / sum(capped) <= share
    else:
        assert len(set(capped)) == 1, "the cap cannot hold: everyone equal"
    assert capped == sorted(capped, reverse=True), "capping keeps the order"


def test_results_from_shard_sums_equal_a_recount_from_the_ballots():
    rng = random.Random(7)
    ballots = [
        ballot(f"u{n}", rng.choice([1, 3, 50, 700]), *rng.sample(["a", "b", "c"], rng.randint(1, 2))) for n in range(40)
    ]
    shards: dict[int, dict[str, int]] = {}
    for b in ballots:  # as the repository adds them: each on its voter's shard
        for name, delta in polls.tally_moves(None, b).items():
            shard = shards.setdefault(polls.shard_of(b["user_id"]), {})
            shard[name] = shard.get(name, 0) + delta
    poll = {**POLL, "weight_cap_share": "0.1"}
    heaviest = sorted(ballots, key=lambda b: -b["weight"])[: polls.top_needed(0.1)]
    counted = polls.results(poll, polls.shard_sums(shards.values()), heaviest)
    _, recounted = polls.recount(poll, ballots)
    assert counted == recounted
    assert counted.capped_voters > 0 and counted.largest_share <= 0.1
    assert sum(r.equal for r in counted.options) == sum(len(b["choices"]) for b in ballots)


def test_a_replacement_moves_only_the_options_that_changed():
    before = ballot("u1", 9, "a", "b")
    assert polls.tally_moves(None, before) == {
        "ballots": 1, "weight": 9, "v|a": 1, "w|a": 9, "q|a": 3000, "v|b": 1, "w|b": 9, "q|b": 3000,
    }  # fmt: skip
    after = ballot("u1", 9, "b", "c")
    assert polls.tally_moves(before, after) == {"v|a": -1, "w|a": -9, "q|a": -3000, "v|c": 1, "w|c": 9, "q|c": 3000}
    assert polls.tally_moves(before, ballot("u1", 9, "b", "a")) == {}


def test_three_tallies_side_by_side():
    poll = {**POLL, "weight_cap_share": "1"}
    _, r = polls.recount(poll, [ballot("w", 100, "a"), ballot("x", 1, "b"), ballot("y", 1, "b"), ballot("z", 2, "b")])
    by_option = {o.option_id: (o.voters, o.equal, o.weighted, o.quadratic) for o in r.options}
    assert by_option == {"a": (1, 1, 100, 10.0), "b": (3, 3, 4, 3.414), "c": (0, 0, 0, 0.0)}
    assert [o.option_id for o in r.options] == ["a", "b", "c"], "contribution weighting decides the order"
    assert (r.turnout, r.weight, r.largest_share, r.cap) == (4, 104, 0.9615, None)
    equal = polls.recount(
        {**poll, "weighting": "equal"}, [ballot("w", 1, "a"), ballot("x", 1, "b"), ballot("y", 1, "b")]
    )
    assert [o.option_id for o in equal[1].options][0] == "b"


def test_a_ballot_is_checked_against_the_poll():
    with pytest.raises(InvalidRequest):
        polls.check_choices(POLL, ["a", "a"])
    with pytest.raises(InvalidRequest):
        polls.check_choices(POLL, ["a", "b", "c"])
    with pytest.raises(InvalidRequest):
        polls.check_choices(POLL, ["d"])
    polls.check_choices(POLL, ["c", "a"])
    with pytest.raises(NotEligible):
        polls.check_eligible(POLL, "fan", 500)
    with pytest.raises(NotEligible):
        polls.check_eligible(POLL, "owner", 9)
    polls.check_eligible(POLL, "deposit", 10)
    assert polls.weight_of("contribution", 0) == 1 and polls.weight_of("contribution", 42) == 42
    assert polls.weight_of("equal", 42) == 1


def test_a_poll_takes_ballots_while_open_and_counts_its_results_a_minute_after_close():
    with pytest.raises(PollNotOpen):
        polls.check_open(POLL, "2026-12-31T23:59:59.999Z")
    polls.check_open(POLL, "2027-01-01T00:00:00.000Z")
    with pytest.raises(PollNotOpen):
        polls.check_open(POLL, "2027-01-08T00:00:00.000Z")
    with pytest.raises(TooSoon):
        polls.check_counted(POLL, "2027-01-08T00:00:59.999Z")
    polls.check_counted(POLL, "2027-01-08T00:01:00.000Z")
    assert polls.status_at({**POLL, "published_at": "x"}, "2027-01-09") == "published"


def test_an_account_made_after_the_poll_was_announced_votes_only_if_it_had_contributed_by_the_opening():
    poll = {**POLL, "eligibility": {"min_tier": "fan", "min_contribution": 0}}
    with pytest.raises(NotEligible):
        polls.check_eligible(poll, "fan", 0, joined_at="2026-12-20T00:00:00.001Z")
    polls.check_eligible(poll, "fan", 0, joined_at="2026-12-20T00:00:00.000Z")
    polls.check_eligible(poll, "fan", 3, joined_at="2027-01-02T00:00:00.000Z")
    polls.check_eligible(poll, "fan", 0, joined_at="")  # a profile from before accounts recorded when they joined


def test_no_ballots_no_cap_and_the_largest_share_is_rounded_down():
    assert polls.cap_of([], 0, 0, 0.5) is None
    _, empty = polls.recount(POLL, [])
    assert (empty.turnout, empty.weight, empty.largest_share, empty.cap) == (0, 0, None, None)
    _, r = polls.recount({**POLL, "weight_cap_share": "1"}, [ballot("x", 2, "a"), ballot("y", 1, "b")])
    assert r.largest_share == 0.6666, "2/3 rounded down: a share never shows above what it is"
