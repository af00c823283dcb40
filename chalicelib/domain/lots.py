"""Points that expire by lot (issue 28): the rules every change of an account applies to its lots.

With the policy's `expiry.months` = m, a point issued on a Shanghai day of month M joins the lot `M + m` (named
"YYYY-MM"), which expires when that month ends (Asia/Shanghai), so a user has at most m + 1 live lots. Points that
leave (a spend, a payment at a merchant, a tip, an envelope) draw the earliest lots first; points that come back (a
refund) go back to the lots they were drawn from, and what goes back to a lot that has already expired expires at
once: a refund never refreshes old points. A hold moves points between available and held and draws nothing: the
lots count available + held, so they are drawn when held points are spent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence

from chalicelib.domain.points import SHANGHAI, Entry

Lots = dict[str, int]  # lot ("YYYY-MM": expires at the end of that month) -> points in it, never 0 or below

# What each ledger kind does to the lots (a test checks every kind is in exactly one of these):
ISSUES = frozenset(
    {"earn", "grant", "referral", "royalty", "design_reward", "event_reward", "envelope_claim", "tip_received"}
)  # points the bank issues join the lot of today's month + `months`
DRAWS = frozenset({"spend", "reversal", "envelope_sent", "merchant_payment", "tip_sent"})  # leave: earliest first
RETURNS = frozenset({"refund", "envelope_refund", "merchant_refund"})  # come back to the lots the same ref drew
MOVES = frozenset({"hold", "release"})  # between available and held: the lots count both, nothing is drawn
EXPIRES = frozenset({"expire"})  # a lot's points leave at the end of its month
OPENS = frozenset({"lots_opened", "lots_closed"})  # lots start or stop being kept: they move, points do not
WORKLIST_PARTITIONS = 16  # a month's work list is spread over this many partitions (a month-end is a hot time)


@dataclass(frozen=True)
class Terms:
    """Expiry as the policy in force sets it: the months a lot lives, and the lot that balances held when expiry
    was switched on join (`opening`)."""

    months: int
    opening: str


def terms_at(schedule: Sequence[tuple[str, Optional[int]]], at: str) -> Optional[Terms]:
    """The expiry in force at `at` from the schedule's (effective_from, expiry months or None) entries: None when
    points do not expire; else its months, and the opening lot of the unbroken run of versions with expiry that
    is in force (its first version's Shanghai day + its first version's months: a later change of months moves
    no lot). The opening lot also names the run: lots kept in an earlier run are opened again."""
    since: Optional[str] = None
    months = first = None  # the months in force, and those of the run's first version (they name its opening lot)
    for effective_from, entry_months in sorted(schedule):
        if effective_from > at:
            break
        if entry_months is None:
            since, months, first = None, None, None
        else:
            since, months, first = since or effective_from, entry_months, first or entry_months
    if since is None or months is None or first is None:
        return None
    moment = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    day = max(moment, dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)).astimezone(SHANGHAI).date().isoformat()
    return Terms(months, lot_of(day, first))


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


def opening(balance: int, lot: str) -> Lots:
    """Switching expiry on for accounts with history: what they hold joins the opening lot (`Terms.opening`: the
    lot of the switch's day)."""
    return {lot: balance} if balance > 0 else {}


def settle(lots: Mapping[str, int], available: int, held: int, day: str) -> tuple[Lots, Lots]:
    """(lots after, what expired from each) on `day`: every lot whose month is over expires. Held points are the
    earliest lots' (a hold takes the earliest first): those stay until the order is paid (they are spent) or
    released (they expire at the next change); the rest of an ended lot expires now."""
    ended = due(lots, day)
    unheld, _ = draw(ended, min(max(held, 0), sum(ended.values())))  # what is left once holds take the earliest
    _, gone = draw(unheld, min(max(available, 0), sum(unheld.values())))
    still = {lot: ended[lot] - gone.get(lot, 0) for lot in ended if ended[lot] - gone.get(lot, 0) > 0}
    return {**{lot: n for lot, n in lots.items() if lot not in ended}, **still}, gone


@dataclass(frozen=True)
class Posted:
    """The lots after a change's entries; what each entry did to them (signed, kept on its ledger entry); what each
    ref it touched has drawn and not had back (kept for that ref's refunds); and returned points that belonged to
    an expired lot, which expire at once (ref -> {lot: points})."""

    lots: Lots
    moved: list[Lots]
    owed: dict[str, Lots]
    lapsed: list[tuple[str, Lots]]


def post(
    lots: Mapping[str, int],
    entries: Sequence[Entry],
    day: str,
    terms: Callable[[], Terms],
    drawn_by: Callable[[str], Lots],
    available: int = 0,
) -> Posted:
    """Apply a change's ledger entries to the lots, which hold max(available, 0) + held: `available` is the balance
    before the entries, and below 0 (a royalty reversed after it was spent) it is a debt that no lot holds, so each
    entry moves the lots by max(after, 0) - max(before, 0) + held_delta, never by more than the points it brings.
    `terms()` is asked only when points are issued, come back without a record of where they were drawn, or come
    back to a lot that has ended; `drawn_by(ref)` (a read) only when points come back: a ref draws once (an order's
    spend, a payment, a tip, an envelope, a royalty's reversal), so a draw reads nothing."""
    after = dict(lots)
    moved: list[Lots] = []
    owed: dict[str, Lots] = {}
    lapsed: list[tuple[str, Lots]] = []
    for entry in entries:
        change = max(available + entry.delta, 0) - max(available, 0) + entry.held_delta
        available += entry.delta
        if change == 0:
            moved.append({})
        elif change > 0 and entry.kind in RETURNS:
            due_back = dict(owed[entry.ref] if entry.ref in owed else drawn_by(entry.ref))
            short = change - sum(due_back.values())
            if short > 0:  # drawn before the lots were kept: back into the opening lot
                opening_lot = terms().opening
                due_back[opening_lot] = due_back.get(opening_lot, 0) + short
            after, gone = put_back(after, due_back, change, day)
            owed[entry.ref] = undrawn(due_back, change)
            back = _diff(due_back, owed[entry.ref])
            moved.append(back)
            if gone:
                terms()  # expiry is still on: what belongs to an ended lot expires at once
                lapsed.append((entry.ref, {lot: n for lot, n in back.items() if expired(lot, day)}))
        elif change > 0:
            lot = lot_of(day, terms().months)
            after = issue(after, change, lot)
            moved.append({lot: change})
        else:
            taken = min(-change, sum(after.values()))  # never more than the lots hold
            after, drawn = draw(after, taken)
            moved.append({lot: -n for lot, n in drawn.items()})
            if entry.kind in DRAWS and drawn:
                mine = owed.get(entry.ref, {})
                owed[entry.ref] = {lot: mine.get(lot, 0) + drawn.get(lot, 0) for lot in {*mine, *drawn}}
    return Posted(after, moved, owed, lapsed)


def _diff(before: Mapping[str, int], after: Mapping[str, int]) -> Lots:
    return {lot: n - after.get(lot, 0) for lot, n in before.items() if n - after.get(lot, 0) > 0}


def expiring_notice(user_id: str, lot: str, points: int, days: int, at: str) -> dict[str, object]:
    """The `points.expiring` notice (docs/events/points.expiring.md): its id is the same for a lot, user and
    notice however often it is made, so a reader drops a repeat."""
    ends = expires_at(lot).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "event_id": f"evt-expiring-{lot}-{days}d-{user_id}",
        "type": "points.expiring",
        "occurred_at": at,
        "user_id": user_id,
        "lot": lot,
        "points": points,
        "expires_at": ends,
        "days_before": days,
    }
