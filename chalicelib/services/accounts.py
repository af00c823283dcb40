"""The one way a user's profile and balances change: read, plan, record with the ledger, retry a lost race.

With expiry on, every change also moves the account's lots (chalicelib/domain/lots.py) inside the same
compare-and-swap: a profile read here is settled first (lots whose month is over expire before anything is
planned on the balance), and the write applies the plan's entries to the lots.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional, Sequence

from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.dynamo import Transaction
from chalicelib.adapters.users_repo import UserRepository, new_profile
from chalicelib.domain import lots as rules
from chalicelib.domain.points import Entry, Profile, shanghai_day
from chalicelib.services.retry import on_lost_race


@dataclass
class Plan:
    """What one change of an account does: the profile after it (None: unchanged), the ledger entries that
    explain it, and what the use case answers."""

    after: Optional[Profile]
    entries: list[Entry] = field(default_factory=list)
    result: Any = None


Planner = Callable[[Profile, dt.datetime, Transaction], Plan]
ExpiryAt = Callable[[dt.datetime], Optional[rules.Terms]]


class _Off(Exception):
    """Expiry is not in force: the lots are no longer kept."""


class Accounts:
    def __init__(self, repo: UserRepository, clock: Clock, expiry: Optional[ExpiryAt] = None) -> None:
        self.repo = repo
        self.clock = clock
        self._expiry: ExpiryAt = expiry or (lambda _: None)  # asked only when points are issued or a lot is due

    def load(self, user_id: str) -> Profile:
        found = self.repo.get(user_id)
        if found:
            return self.settled(found)
        return replace(new_profile(user_id, iso(self.clock.now())), stored=False)

    def settled(self, profile: Profile) -> Profile:
        """The profile as of now: lots whose month is over have expired (as far as available points cover them);
        the next write records their `expire` entries. Nothing is due: nothing is asked or changed."""
        if not profile.lots:
            return profile
        now = self.clock.now()
        day = shanghai_day(now)
        if not rules.due(profile.lots, day):
            return profile
        terms = self._expiry(now)
        if terms is None or terms.opening != profile.lots_run:  # off, or kept in an earlier run: they do not expire
            return profile
        lots, gone = rules.settle(profile.lots, profile.points_available, profile.points_held, day)
        if not gone:
            return profile
        lapsed = {**(profile.lapsed or {}), **gone}
        return replace(
            profile, lots=lots, points_available=profile.points_available - sum(gone.values()), lapsed=lapsed
        )

    def expiry_at(self, moment: dt.datetime) -> Optional[rules.Terms]:
        return self._expiry(moment)

    def change(self, user_id: str, planner: Planner, *, open_lots: bool = False) -> Any:
        """Run `planner(profile, now, tx)` — it adds its own writes to `tx` — and commit them with the profile
        and ledger of its plan in one transaction, re-planning on a lost race."""

        def attempt() -> Any:
            before = self.load(user_id)
            now = self.clock.now()
            tx = self.repo.begin()
            plan = planner(before, now, tx)
            if plan.after is not None:
                self._write(tx, before, plan.after, plan.entries, iso(now), open_lots=open_lots)
            tx.commit()
            return plan.result

        return on_lost_race(attempt, f"the account of {user_id!r}")

    def post(self, tx: Transaction, user_id: str, entries: Sequence[Entry], at: str, pending_orders: int = 0) -> None:
        """Add `entries` (and a change of the open pending orders) to the user's account in `tx`; nothing to
        write: no read."""
        if entries or pending_orders:
            before = self.load(user_id)
            self._write(tx, before, before.posted(entries, pending_orders), entries, at)

    def record(self, tx: Transaction, before: Profile, after: Profile, entries: Sequence[Entry], at: str) -> None:
        """Write a change planned on `before` (read by the caller and settled with `settled`)."""
        self._write(tx, before, after, entries, at)

    def _write(
        self,
        tx: Transaction,
        before: Profile,
        after: Profile,
        entries: Sequence[Entry],
        at: str,
        open_lots: bool = False,
    ) -> None:
        moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        day = shanghai_day(moment)
        lapsed = sorted((before.lapsed or {}).items())
        written = [Entry(delta=-n, kind="expire", ref=f"lot:{lot}") for lot, n in lapsed]
        moved: list[dict[str, int]] = [{lot: -n} for lot, n in lapsed]
        stored = replace(before, points_available=before.points_available + sum(n for _, n in lapsed), lapsed=None)

        def terms() -> rules.Terms:
            found = self._expiry(moment)
            if found is None:
                raise _Off
            return found

        lots, run = before.lots, before.lots_run
        grows = open_lots or any(e.kind not in rules.MOVES and e.delta + e.held_delta > 0 for e in entries)
        try:
            if grows:
                opened = terms()
                if lots is not None and run != opened.opening:  # kept in an earlier run of expiry: start again
                    written.append(Entry(delta=0, kind="lots_closed", ref=f"lot:{run or 'none'}"))
                    moved.append({lot: -n for lot, n in lots.items()})
                    lots = None
                if lots is None:  # the balance joins the run's opening lot
                    lots, run = (
                        rules.opening(max(before.points_available, 0) + before.points_held, opened.opening),
                        opened.opening,
                    )
                    written.append(Entry(delta=0, kind="lots_opened", ref=f"lot:{run}"))
                    moved.append(dict(lots))
                    lots, gone = rules.settle(lots, before.points_available, before.points_held, day)  # already over
                    for lot, n in sorted(gone.items()):
                        written.append(Entry(delta=-n, kind="expire", ref=f"lot:{lot}"))
                        moved.append({lot: -n})
                        after = replace(after, points_available=after.points_available - n)
            if lots is None:
                raise _Off
            posted = rules.post(
                lots, entries, day, terms, lambda ref: self.repo.drawn(after.user_id, ref), before.points_available
            )
        except _Off:  # expiry is off: the lots stop being kept (the report's lot totals lose them too)
            if before.lots:
                written.append(Entry(delta=0, kind="lots_closed", ref=f"lot:{before.lots_run or 'none'}"))
                moved.append({lot: -n for lot, n in before.lots.items()})
            after = replace(after, lots=None, lots_run="", lapsed=None)
            self.repo.record(tx, stored, after, [*written, *entries], at, [*moved, *([{}] * len(entries))])
            return
        gone_back = []
        for _, back in posted.lapsed:  # returned to a lot whose month is over: they expire at once, a lot each
            for lot, n in sorted(back.items()):
                gone_back.append(Entry(delta=-n, kind="expire", ref=f"lot:{lot}"))
                posted.moved.append({lot: -n})
        points = after.points_available - sum(-e.delta for e in gone_back)
        after = replace(after, lots=posted.lots, lots_run=run, lapsed=None, points_available=points)
        self.repo.record(tx, stored, after, [*written, *entries, *gone_back], at, [*moved, *posted.moved])
        opened_lots = [lot for lot in posted.lots if lot not in (before.lots or {}) or run != before.lots_run]
        self.repo.record_lots(tx, after.user_id, posted.owed, opened_lots, at)
