"""Tips to creators (打赏): a user gives points to the designer of a public design or the host of a published event.
Part of each tip is burned (leaves circulation, the report's `burned`), the creator gets the rest; the policy caps
what a tier sends and a creator receives per Shanghai day, and how old an account must be to tip."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal
from typing import Annotated, Literal, Optional

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.points import UserId
from chalicelib.domain.text import OneLine

MAX_TIP_POINTS = 100_000
FLOW_SHARDS = 4  # a day's tip flows (sender → recipient sums) live on this many partitions
MAX_FLOW_DAYS = 30
TOP_FLOWS = 20
RefId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]


class TipRef(Strict):
    kind: Literal["design", "event"] = Field(description="a public design (to its designer) or an event (to its host)")
    id: RefId


class TipInput(Strict):
    to_user_id: Optional[UserId] = Field(
        default=None,
        description="the creator; left out, the designer or host of `ref` (the gallery shows designers' display "
        "names, not their user ids); given, it must be that creator",
    )
    points: int = Field(ge=1, le=MAX_TIP_POINTS)
    ref: TipRef
    message: Optional[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), OneLine]
    ] = None


class Tip(Model):
    tip_id: str
    from_user_id: str
    to_user_id: Optional[str] = Field(description="as the request named it (null when it named none)")
    to_name: str = Field(description="the creator as the public sees them: a designer's display name, an event's host")
    points: int = Field(description="what the sender gave")
    received: int = Field(description="what the creator got: points × (1 − burn_rate), rounded down")
    burned: int = Field(description="what left circulation")
    ref: TipRef
    message: Optional[str] = None
    created_at: str
    available: int = Field(description="the sender's available points after the tip")


def split_tip(points: int, burn_rate: str) -> tuple[int, int]:
    """(received, burned) of a tip: the creator gets points × (1 − rate) rounded down, the rest is burned."""
    received = int((Decimal(points) * (1 - Decimal(burn_rate))).to_integral_value(rounding=ROUND_FLOOR))
    return received, points - received


def smallest_tip(burn_rate: str) -> int:
    """The fewest points a tip may be so its creator gets at least 1 (None-burning rates: 1)."""
    points = 1
    while split_tip(points, burn_rate)[0] < 1 and points < MAX_TIP_POINTS:
        points += 1
    return points


def old_enough_at(created_at: str, min_days: int) -> dt.datetime:
    """When an account first seen at `created_at` may tip."""
    return dt.datetime.fromisoformat(created_at.replace("Z", "+00:00")) + dt.timedelta(days=min_days)


class Flow(Model):
    from_user_id: str
    to_user_id: str
    points: int
    tips: int


class ReciprocalPair(Model):
    a: str
    b: str
    a_to_b: int
    b_to_a: int
    tips: int


class TipFlows(Model):
    first_day: str
    last_day: str
    largest: list[Flow] = Field(description=f"the {TOP_FLOWS} largest sender → recipient sums in the range")
    reciprocal: list[ReciprocalPair] = Field(
        description="pairs who tipped each other in the range, the smaller direction largest first"
    )


class FlowQuery(Model):  # a query string: "7" is the number 7
    model_config = ConfigDict(extra="forbid", defer_build=True)

    days: int = Field(default=7, ge=1, le=MAX_FLOW_DAYS, description="the last N Shanghai days, today included")


def flows(first: str, last: str, sums: dict[tuple[str, str], tuple[int, int]]) -> TipFlows:
    """The review list from {(from, to): (points, tips)} over the range."""
    largest = sorted(sums.items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP_FLOWS]
    pairs = []
    for (a, b), (ab, n_ab) in sums.items():
        if a < b and (b, a) in sums:
            ba, n_ba = sums[(b, a)]
            pairs.append(ReciprocalPair(a=a, b=b, a_to_b=ab, b_to_a=ba, tips=n_ab + n_ba))
    pairs.sort(key=lambda p: (-min(p.a_to_b, p.b_to_a), p.a, p.b))
    return TipFlows(
        first_day=first,
        last_day=last,
        largest=[Flow(from_user_id=f, to_user_id=t, points=p, tips=n) for (f, t), (p, n) in largest],
        reciprocal=pairs[:TOP_FLOWS],
    )
