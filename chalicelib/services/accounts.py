"""The one way a user's profile and balances change: read, plan, record with the ledger, retry a lost race."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional, Sequence

from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.dynamo import Transaction
from chalicelib.adapters.users_repo import UserRepository, new_profile
from chalicelib.domain.points import Entry, Profile
from chalicelib.services.retry import on_lost_race


@dataclass
class Plan:
    """What one change of an account does: the profile after it (None: unchanged), the ledger entries that
    explain it, and what the use case answers."""

    after: Optional[Profile]
    entries: list[Entry] = field(default_factory=list)
    result: Any = None


Planner = Callable[[Profile, dt.datetime, Transaction], Plan]


class Accounts:
    def __init__(self, repo: UserRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    def load(self, user_id: str) -> Profile:
        found = self.repo.get(user_id)
        if found:
            return found
        return replace(new_profile(user_id, iso(self.clock.now())), stored=False)

    def change(self, user_id: str, planner: Planner) -> Any:
        """Run `planner(profile, now, tx)` — it adds its own writes to `tx` — and commit them with the profile
        and ledger of its plan in one transaction, re-planning on a lost race."""

        def attempt() -> Any:
            before = self.load(user_id)
            now = self.clock.now()
            tx = self.repo.begin()
            plan = planner(before, now, tx)
            if plan.after is not None:
                self.repo.record(tx, before, plan.after, plan.entries, iso(now))
            tx.commit()
            return plan.result

        return on_lost_race(attempt, f"the account of {user_id!r}")

    def post(self, tx: Transaction, user_id: str, entries: Sequence[Entry], at: str, pending_orders: int = 0) -> None:
        """Add `entries` (and a change of the open pending orders) to the user's account in `tx`; nothing to
        write: no read."""
        if entries or pending_orders:
            before = self.load(user_id)
            self.repo.record(tx, before, before.posted(entries, pending_orders), entries, at)

    def record(self, tx: Transaction, before: Profile, after: Profile, entries: Sequence[Entry], at: str) -> None:
        self.repo.record(tx, before, after, entries, at)
