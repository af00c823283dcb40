"""Points that expire by lot: a user's lots, and the sweep that expires them from a work list by month.

The lots themselves move with every change of an account (services/accounts.py). The sweep only reaches the
accounts nothing has touched since their lot's month ended: each lot's users are on its work list (written beside
the profile when the lot first gets points), so a month-end costs its own users, never a scan of everyone.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Optional

from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.dynamo import Transaction
from chalicelib.adapters.users_repo import UserRepository
from chalicelib.domain import lots as rules
from chalicelib.domain.points import Expiring, Lot, LotList, Profile, shanghai_day
from chalicelib.services.accounts import Accounts, Plan

BUDGET_S = 780.0  # a run's work before it stops for the next (the Lambda's timeout is 900 s: .chalice/config.json)
NOTICE_DAYS = (30, 3)  # points.expiring notices go this many days before a lot ends
MONTHS_BACK = 3  # months a lot stays on the sweep's list after it ends (points an open order held, then released)


class LotService:
    def __init__(self, accounts: Accounts, repo: UserRepository, clock: Clock) -> None:
        self._accounts = accounts
        self._repo = repo
        self._clock = clock

    def lots(self, user_id: str) -> LotList:
        profile = self._accounts.load(user_id)
        terms = self._accounts.expiry_at(self._clock.now())
        items = [
            Lot(lot=lot, points=n, expires_at=iso(rules.expires_at(lot)))
            for lot, n in sorted((profile.lots or {}).items())
        ]
        return LotList(items=items, total=sum(i.points for i in items), expiry_months=terms.months if terms else None)

    @staticmethod
    def expiring(profile: Profile, now: dt.datetime) -> Optional[Expiring]:
        """The next lot to expire: an ended lot that an open order still holds is not ahead of anyone."""
        lots, today = profile.lots or {}, shanghai_day(now)
        ahead = sorted(lot for lot in lots if not rules.expired(lot, today))
        if not ahead:
            return None
        return Expiring(points=lots[ahead[0]], at=iso(rules.expires_at(ahead[0])))

    def sweep(self, budget_s: float = BUDGET_S) -> int:
        """Expire every lot whose month is over, once: users nothing has touched since are reached from the lot's
        work list (one paged pass per partition). Returns the points expired. Safe beside any other change: each
        account moves by its own compare-and-swap, and one already settled by a spend or refund has nothing left
        to expire. Stops after `budget_s` seconds; the next run carries on (handled users have left the list)."""
        now = self._clock.now()
        terms = self._accounts.expiry_at(now)
        if terms is None:
            return 0
        deadline = time.monotonic() + budget_s
        expired = self._open_all(terms, deadline)
        today = shanghai_day(now)
        for lot in sorted(rules.lot_of(today, -back) for back in range(1, MONTHS_BACK + 1)):
            for partition in range(rules.WORKLIST_PARTITIONS):
                for user_id in self._repo.all_on_expiry_list(lot, partition):
                    if time.monotonic() > deadline:
                        return expired
                    expired += self._accounts.change(user_id, self._expire(lot))
        return expired

    def notify(self, budget_s: float = BUDGET_S) -> int:
        """`points.expiring` notices NOTICE_DAYS before a lot ends, once per lot and notice: a pass over the lot's
        work list writes one NOTICE# item per user with points in it (on condition it is new); the table's stream
        sends it to the notifications queue. A partition done is marked, so a pass cut short by its budget carries
        on where it stopped. Returns the notices written."""
        now = self._clock.now()
        if self._accounts.expiry_at(now) is None:
            return 0
        deadline, written = time.monotonic() + budget_s, 0
        today = shanghai_day(now)
        for lot in (rules.lot_of(today, 0), rules.lot_of(today, 1)):
            ends = rules.expires_at(lot)
            for days in NOTICE_DAYS:
                if not ends - dt.timedelta(days=days) <= now < ends:
                    continue
                done = self._repo.noticed(lot, days)
                for partition in range(rules.WORKLIST_PARTITIONS):
                    if partition in done:
                        continue
                    for user_id in self._repo.all_on_expiry_list(lot, partition):
                        if time.monotonic() > deadline:
                            return written
                        points = (self._accounts.load(user_id).lots or {}).get(lot, 0)
                        if points > 0:
                            written += self._repo.add_notice(
                                rules.expiring_notice(user_id, lot, points, days, iso(now))
                            )
                    self._repo.mark_noticed(lot, days, partition, iso(now))
        return written

    def _expire(self, lot: str) -> Any:
        def plan(profile: Profile, at: dt.datetime, tx: Transaction) -> Plan:
            gone = sum((profile.lapsed or {}).values())
            if lot not in (profile.lots or {}):  # gone (all of it expired, or spent): off the list
                self._repo.leave_expiry_list(tx, lot, profile.user_id)
                if not gone:  # nothing else is written: the list's item leaves only if the profile is unchanged
                    self._repo.require_version(tx, profile)
            return Plan(profile if gone else None, result=gone)

        return plan

    def _open_all(self, terms: rules.Terms, deadline: float) -> int:
        """Once per switch of expiry to on: accounts that hold points and keep no lots of this run get their
        opening lot (a Scan, resumed from where a run cut short by its budget stopped; later months are work
        lists)."""
        progress = self._repo.opening_progress(terms.opening)
        if progress == "done":
            return 0
        expired = 0
        for user_id, resume in self._repo.without_lots(terms.opening, progress):
            if time.monotonic() > deadline:
                self._repo.mark_opening(terms.opening, resume, iso(self._clock.now()))
                return expired
            expired += self._accounts.change(user_id, _opener(terms.opening), open_lots=True)
        self._repo.mark_opening(terms.opening, "done", iso(self._clock.now()))
        return expired


def _opener(run: str) -> Any:
    def plan(profile: Profile, at: dt.datetime, tx: Transaction) -> Plan:
        kept = profile.lots is not None and profile.lots_run == run
        return Plan(None if kept else profile, result=0)

    return plan
