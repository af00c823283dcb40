"""Points that expire by lot (issue 28, first slice: the rules, not yet wired into the accounts).

With the policy's `expiry.months` = m, a point issued on a Shanghai day of month M joins the lot `M + m` (named
"YYYY-MM"), which expires when that month ends (Asia/Shanghai), so a user has at most m + 1 live lots. Points that
leave (a spend, a payment at a merchant, a tip, an envelope) draw the earliest lots first; points that come back (a
refund) go back to the lots they were drawn from, and what goes back to a lot that has already expired expires at
once: a refund never refreshes old points. A hold moves points between available and held and draws nothing: the
lots count available + held, so they are drawn when held points are spent.
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from chalicelib.domain.points import SHANGHAI

Lots = dict[str, int]  # lot ("YYYY-MM": expires at the end of that month) -> points in it, never 0 or below


def lot_of(day: str, months: int) -> str:
    """The lot a point issued on Shanghai day `day` (YYYY-MM-DD) joins."""
    year, month = int(day[:4]), int(day[5:7]) + months
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return f"{year:04d}-{month:02d}"


def expires_at(lot: str) -> dt.datetime:
    """The instant a lot's points expire: the first moment of the next month in Shanghai (UTC)."""
    year, month = int(lot[:4]), int(lot[5:7]) + 1
    if month == 13:
        year, month = year + 1, 1
    return dt.datetime(year, month, 1, tzinfo=SHANGHAI).astimezone(dt.timezone.utc)


def expired(lot: str, day: str) -> bool:
    """Whether a lot has expired by Shanghai day `day`: its month is over."""
    return lot < day[:7]


def issue(lots: Mapping[str, int], points: int, lot: str) -> Lots:
    if points < 0:
        raise ValueError("issue a positive number of points")
    after = dict(lots)
    if points:
        after[lot] = after.get(lot, 0) + points
    return after


def draw(lots: Mapping[str, int], points: int) -> tuple[Lots, Lots]:
    """(lots after, what was drawn from each) taking `points` from the earliest lots first; ValueError if the lots
    hold fewer (the balance check comes first: this is the invariant Σ lots = available + held)."""
    if points > sum(lots.values()):
        raise ValueError(f"the lots hold {sum(lots.values())} points, not {points}")
    after, drawn, left = dict(lots), {}, points
    for lot in sorted(lots):
        if left == 0:
            break
        take = min(after[lot], left)
        drawn[lot] = take
        left -= take
        after[lot] -= take
        if after[lot] == 0:
            del after[lot]
    return after, drawn


def put_back(lots: Mapping[str, int], drawn: Mapping[str, int], points: int, day: str) -> tuple[Lots, int]:
    """(lots after, points that expire at once) when `points` of what was `drawn` come back on `day`: into the
    latest-expiring of the drawn lots first (the order a refund undoes a spend), each no more than was drawn from it;
    what belongs to an expired lot is not put back but expires at once."""
    if points > sum(drawn.values()):
        raise ValueError(f"{points} points cannot come back: {sum(drawn.values())} were drawn")
    after, left, lapsed = dict(lots), points, 0
    for lot in sorted(drawn, reverse=True):
        if left == 0:
            break
        back = min(drawn[lot], left)
        left -= back
        if expired(lot, day):
            lapsed += back
        else:
            after[lot] = after.get(lot, 0) + back
    return after, lapsed


def undrawn(drawn: Mapping[str, int], points: int) -> Lots:
    """What is left of `drawn` after `points` of it came back (put_back's order: latest lots first)."""
    rest, left = dict(drawn), points
    for lot in sorted(drawn, reverse=True):
        back = min(rest[lot], left)
        rest[lot] -= back
        left -= back
        if rest[lot] == 0:
            del rest[lot]
    return rest


def due(lots: Mapping[str, int], day: str) -> Lots:
    """The lots that have expired by `day` and what they hold (the sweep's work)."""
    return {lot: points for lot, points in lots.items() if expired(lot, day)}


def opening(balance: int, switch_day: str, months: int) -> Lots:
    """Switching expiry on for accounts with history: what they hold joins the lot of the switch's day."""
    return {lot_of(switch_day, months): balance} if balance > 0 else {}
