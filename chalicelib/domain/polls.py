"""Community votes weighted by contribution (NIO Value): polls and elections, ballots with weights frozen when the
poll opens, and results counted three ways side by side.

A voter's weight is fixed at their first ballot from their contribution score at `opens_at` (the dated contribution
ledger up to that instant), so earning more once the poll is open changes nothing. A later ballot replaces the
earlier one with the same weight. Ballots are tallied on TALLY_SHARDS items by the voter's hash (a voter's
replacement moves their own shard), each holding per option: voters, Σ weight and Σ √weight (in thousandths,
each ballot's root rounded down, so every sum is an exact integer). After close the results come from the shard
sums and the few heaviest ballots: `weight_cap_share` caps the voters whose weight would exceed that share of the
total (water-filling: the cap C solves C = share × Σ min(weight, C)), and only those voters' ballots are read."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from fractions import Fraction
from typing import Annotated, Any, Iterable, Literal, Mapping, Optional, Sequence

from pydantic import Field, StringConstraints, field_validator, model_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.community import Title
from chalicelib.domain.errors import InvalidRequest, NotEligible, PollNotOpen, TooSoon
from chalicelib.domain.points import TIER_RANK, Tier, tier_allows

TALLY_SHARDS = 16  # a poll's ballots are counted on this many items (thousands voting in a minute never queue on one)
MILLI = 1000  # quadratic tallies are kept in thousandths of a vote
MAX_OPTIONS = 50
MAX_DAYS = 90  # a poll is open at most this long
MIN_CAP_SHARE = 0.001  # the results read at most ceil(1 / share) + 1 ballots to find the capped voters
SETTLE = dt.timedelta(minutes=1)  # a ballot read just before close may commit just after: the count waits
PollWeighting = Literal["equal", "contribution"]
PollStatus = Literal["upcoming", "open", "closed", "published"]
PollId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")]
OptionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]


class PollOption(Strict):
    option_id: OptionId
    title: Title


class Eligibility(Strict):
    min_tier: Tier = "fan"
    min_contribution: int = Field(
        default=0, ge=0, le=10**9, description="contribution score at opens_at (earning more later does not qualify)"
    )


class PollInput(Strict):
    poll_id: PollId
    title: Title
    title_zh: Title
    options: list[PollOption] = Field(min_length=2, max_length=MAX_OPTIONS)
    choices: int = Field(default=1, ge=1, le=MAX_OPTIONS, description="how many options one ballot may choose")
    opens_at: dt.datetime = Field(description="weights are frozen at this instant; not in the past")
    closes_at: dt.datetime
    eligibility: Eligibility = Field(default_factory=Eligibility)
    weighting: PollWeighting = Field(
        default="contribution", description="contribution: max(1, contribution at opens_at), capped; equal: 1 each"
    )
    weight_cap_share: float = Field(
        default=1.0,
        ge=MIN_CAP_SHARE,
        le=1.0,
        description="no voter holds more than this share of the weighted total (1: no cap)",
    )

    @field_validator("options")
    @classmethod
    def _options_unique(cls, options: list[PollOption]) -> list[PollOption]:
        ids = [o.option_id for o in options]
        if len(set(ids)) != len(ids):
            raise ValueError("option_id values must be unique")
        return options

    @model_validator(mode="after")
    def _makes_sense(self) -> "PollInput":
        for name in ("opens_at", "closes_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} needs a time zone, e.g. 2026-12-20T10:00:00+08:00")
            if not 2000 <= getattr(self, name).year <= 2100:
                raise ValueError(f"{name} must be a date between the years 2000 and 2100")
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        if self.closes_at - self.opens_at > dt.timedelta(days=MAX_DAYS):
            raise ValueError(f"a poll is open at most {MAX_DAYS} days")
        if self.choices > len(self.options):
            raise ValueError("choices cannot exceed the number of options")
        return self


class BallotInput(Strict):
    choices: list[OptionId] = Field(min_length=1, max_length=MAX_OPTIONS)


class Poll(Model):
    poll_id: str
    title: str
    title_zh: str
    options: list[PollOption]
    choices: int
    opens_at: str
    closes_at: str
    eligibility: Eligibility
    weighting: PollWeighting
    weight_cap_share: float
    status: PollStatus = Field(description="from the time: upcoming, open, closed; published once results are")
    created_at: str
    published_at: Optional[str] = None


class PollPage(Model):
    items: list[Poll]
    next_cursor: Optional[str]


class Ballot(Model):
    poll_id: str
    choices: list[str]
    weight: int = Field(description="the weight this ballot counts with before any cap (frozen at the first ballot)")
    contribution: int = Field(description="the voter's contribution score at opens_at")
    cast_at: str
    updated_at: str
    version: int = Field(description="1 for the first ballot, +1 each time it is replaced")


class OptionResult(Model):
    option_id: str
    title: str
    voters: int = Field(description="ballots that chose it")
    equal: int = Field(description="one vote per voter")
    weighted: int = Field(description="Σ weight, each capped")
    quadratic: float = Field(description="Σ √weight (capped), to 3 decimals, each root rounded down")


class PollResults(Model):
    poll_id: str
    weighting: PollWeighting
    options: list[OptionResult] = Field(description="most votes first by the poll's weighting")
    turnout: int = Field(description="voters who cast a ballot")
    weight: int = Field(description="Σ weight of all voters, capped")
    largest_share: Optional[float] = Field(description="the heaviest voter's share of `weight` (4 decimals, down)")
    cap: Optional[int] = Field(description="the weight the heaviest voters were capped at; null: nobody was")
    capped_voters: int
    published_at: Optional[str] = None


class Turnout(Model):
    poll_id: str
    status: PollStatus
    voters: int
    weight: int = Field(description="Σ weight before any cap")


# -- rules ------------------------------------------------------------------------------------------------------------
def instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_at(poll: Mapping[str, Any], now: str) -> PollStatus:
    if poll.get("published_at"):
        return "published"
    if now < poll["opens_at"]:
        return "upcoming"
    return "open" if now < poll["closes_at"] else "closed"


def check_open(poll: Mapping[str, Any], now: str) -> None:
    status = status_at(poll, now)
    if status != "open":
        raise PollNotOpen(
            f"poll {poll['poll_id']!r} takes ballots from {poll['opens_at']} until {poll['closes_at']}; it is {status}",
            {"poll_id": poll["poll_id"], "opens_at": poll["opens_at"], "closes_at": poll["closes_at"]},
        )


def counted_from(poll: Mapping[str, Any]) -> str:
    """When the results are counted: a minute after close (a ballot read just before close may still commit)."""
    return instant(dt.datetime.fromisoformat(poll["closes_at"].replace("Z", "+00:00")) + SETTLE)


def check_counted(poll: Mapping[str, Any], now: str) -> None:
    """TooSoon before the results are counted."""
    start = counted_from(poll)
    if now < start:
        raise TooSoon(f"the results of poll {poll['poll_id']!r} are counted from {start}, a minute after it closes",
                      {"from": start})  # fmt: skip


def check_choices(poll: Mapping[str, Any], choices: Sequence[str]) -> None:
    known = {o["option_id"] for o in poll["options"]}
    problem = None
    if len(set(choices)) != len(choices):
        problem = "each option at most once"
    elif len(choices) > int(poll["choices"]):
        problem = f"at most {poll['choices']} option(s) on this poll"
    elif unknown := [c for c in choices if c not in known]:
        problem = f"not an option of this poll: {', '.join(unknown)}"
    if problem:
        raise InvalidRequest("the ballot is not valid", {"fields": {"choices": problem}})


def check_eligible(poll: Mapping[str, Any], tier: str, contribution: int, joined_at: str = "") -> None:
    """NotEligible unless the voter's tier and contribution at opens_at meet the poll's eligibility, and the account
    existed when the poll was announced (created) or had contributed by its opening: no accounts made for it."""
    rule = poll["eligibility"]
    tier = tier if tier in TIER_RANK else "fan"
    if joined_at > poll["created_at"] and contribution <= 0:
        raise NotEligible(
            f"poll {poll['poll_id']!r} is open to accounts that existed when it was announced ({poll['created_at']}) "
            f"or had contributed by its opening; yours joined at {joined_at}",
            {**rule, "announced_at": poll["created_at"], "joined_at": joined_at},
        )
    if not tier_allows(tier, rule["min_tier"]) or contribution < int(rule["min_contribution"]):
        raise NotEligible(
            f"poll {poll['poll_id']!r} is open to tier {rule['min_tier']} and above with a contribution score of at "
            f"least {rule['min_contribution']} at {poll['opens_at']}; yours: {tier}, {contribution}",
            {**rule, "tier": tier, "contribution": contribution},
        )


def weight_of(weighting: str, contribution: int) -> int:
    return max(1, contribution) if weighting == "contribution" else 1


def root_milli(weight: int) -> int:
    """√weight in thousandths, rounded down (exact integer arithmetic)."""
    return math.isqrt(weight * MILLI * MILLI)


def shard_of(user_id: str) -> int:
    return int(hashlib.sha256(user_id.encode()).hexdigest()[:8], 16) % TALLY_SHARDS


def tally_moves(before: Optional[Mapping[str, Any]], after: Mapping[str, Any]) -> dict[str, int]:
    """What a ballot (replacing `before`, or the voter's first) adds to its shard: attribute -> delta, where
    `v|o`, `w|o`, `q|o` are option o's voters, Σ weight and Σ √weight (thousandths), and `ballots`, `weight` the
    poll's. Options chosen both times do not move."""
    weight = int(after["weight"])
    old = set(before["choices"]) if before else set()
    new = set(after["choices"])
    moves: dict[str, int] = {} if before else {"ballots": 1, "weight": weight}
    for option, sign in [(o, -1) for o in sorted(old - new)] + [(o, 1) for o in sorted(new - old)]:
        moves.update({f"v|{option}": sign, f"w|{option}": sign * weight, f"q|{option}": sign * root_milli(weight)})
    return moves


def shard_sums(shards: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    sums: dict[str, int] = {}
    for shard in shards:
        for name, value in shard.items():
            if name == "ballots" or name == "weight" or name[:2] in ("v|", "w|", "q|"):
                sums[name] = sums.get(name, 0) + int(value)
    return sums


def top_needed(share: float) -> int:
    """How many of the heaviest ballots decide the cap (at most ceil(1/share) voters can be capped, plus one)."""
    return math.ceil(1 / Fraction(str(share))) + 1 if share < 1 else 1


def cap_of(heaviest: Sequence[int], total: int, voters: int, share: float) -> Optional[int]:
    """The weight at which the heaviest voters are capped so that none holds more than `share` of the capped total
    (None: nobody exceeds it). `heaviest` are the largest weights, descending (at least top_needed(share) of them,
    or all). With fewer voters than 1/share the cap cannot hold: everyone counts as the lightest voter."""
    limit = Fraction(str(share))
    if limit >= 1 or voters == 0 or not heaviest:
        return None
    if voters * limit < 1:
        lightest = min(heaviest)
        return lightest if heaviest[0] > lightest else None
    capped_sum = 0
    for j, weight in enumerate(heaviest):
        if 1 - j * limit <= 0:
            break
        cap = limit * (total - capped_sum) / (1 - j * limit)
        if weight <= cap:
            return None if j == 0 else math.floor(cap)
        capped_sum += weight
    return min(heaviest)


def results(poll: Mapping[str, Any], sums: Mapping[str, int], heaviest: Sequence[Mapping[str, Any]]) -> PollResults:
    """The results from the shard sums and the heaviest ballots (descending weight, top_needed of them or all)."""
    voters, total = sums.get("ballots", 0), sums.get("weight", 0)
    cap = (
        cap_of([int(b["weight"]) for b in heaviest], total, voters, float(poll["weight_cap_share"])) if voters else None
    )
    weighted = {o["option_id"]: sums.get(f"w|{o['option_id']}", 0) for o in poll["options"]}
    roots = {o["option_id"]: sums.get(f"q|{o['option_id']}", 0) for o in poll["options"]}
    capped = [b for b in heaviest if cap is not None and int(b["weight"]) > cap]
    for ballot in capped:
        assert cap is not None
        excess, root_excess = int(ballot["weight"]) - cap, root_milli(int(ballot["weight"])) - root_milli(cap)
        total -= excess
        for option in ballot["choices"]:
            weighted[option] -= excess
            roots[option] -= root_excess
    options = [
        OptionResult(
            option_id=o["option_id"],
            title=o["title"],
            voters=sums.get(f"v|{o['option_id']}", 0),
            equal=sums.get(f"v|{o['option_id']}", 0),
            weighted=weighted[o["option_id"]],
            quadratic=roots[o["option_id"]] / MILLI,
        )
        for o in poll["options"]
    ]
    by = "weighted" if poll["weighting"] == "contribution" else "equal"
    options.sort(key=lambda r: -getattr(r, by))  # stable: ties keep the poll's order
    largest = (cap if cap is not None else int(heaviest[0]["weight"])) if heaviest and total else None
    return PollResults(
        poll_id=poll["poll_id"],
        weighting=poll["weighting"],
        options=options,
        turnout=voters,
        weight=total,
        largest_share=math.floor(Fraction(largest, total) * 10_000) / 10_000 if largest is not None else None,
        cap=cap,
        capped_voters=len(capped),
    )


def recount(poll: Mapping[str, Any], ballots: Sequence[Mapping[str, Any]]) -> tuple[dict[str, int], PollResults]:
    """(shard sums, results) recomputed from every ballot: what reconcile compares the shards and published results
    with."""
    sums: dict[str, int] = {}
    for ballot in ballots:
        for name, delta in tally_moves(None, ballot).items():
            sums[name] = sums.get(name, 0) + delta
    heaviest = sorted(ballots, key=lambda b: -int(b["weight"]))
    return {k: v for k, v in sums.items() if v}, results(poll, sums, heaviest)
