"""The contribution score: awards once per (user, kind, ref), on their own or inside another feature's
transaction; balances, the ledger, and what a user's design vote weighs."""

from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.clock import Clock, iso, new_id
from chalicelib.adapters.contribution_repo import ContributionRepository
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import LostRace, OnFail, Transaction
from chalicelib.domain import contribution as rules
from chalicelib.services.retry import on_lost_race
from chalicelib.settings import Settings


class ContributionService:
    def __init__(self, repo: ContributionRepository, clock: Clock, cursors: CursorCodec, settings: Settings) -> None:
        self._repo = repo
        self._clock = clock
        self._cursors = cursors
        self._settings = settings

    # -- earning -----------------------------------------------------------------------------
    def earn(self, user_id: str, kind: str, ref: str, amount: Optional[int] = None) -> rules.Earned:
        """An award in a transaction of its own. A source that already earned changes nothing and answers with
        its first entry (`created` false); `amount` defaults to the setting of a built-in kind."""

        def attempt() -> rules.Earned:
            tx = self._repo.begin()
            entry, created = self.add(tx, user_id, kind, ref, iso(self._clock.now()), amount)
            tx.commit()
            return rules.Earned(entry=rules.ContributionEntry.model_validate(entry), created=created)

        return on_lost_race(attempt, f"the contribution of {user_id!r}")

    def add(
        self,
        tx: Transaction,
        user_id: str,
        kind: str,
        ref: str,
        at: str,
        amount: Optional[int] = None,
        *,
        on_repeat: OnFail = LostRace,
    ) -> tuple[dict[str, Any], bool]:
        """Add an award to another use case's transaction `tx`: (the entry, True), or — the source already
        earned — (its first entry, False) and nothing added. The same source earning concurrently fails `tx`
        with `on_repeat` (by default LostRace: the caller re-plans, and then finds the source earned)."""
        earned = self._repo.source(user_id, kind, ref)
        if earned:
            return earned, False
        points = self._settings.contribution_points[kind] if amount is None else amount
        if not 1 <= points <= rules.MAX_AMOUNT:  # the score never goes down, and one award stays small
            raise ValueError(f"a contribution award is 1..{rules.MAX_AMOUNT}, not {points}")
        entry = {
            "entry_id": new_id("c"),
            "user_id": user_id,
            "kind": kind,
            "ref": ref,
            "amount": points,
            "created_at": at,
        }
        self._repo.add(tx, entry, on_repeat=on_repeat)
        return entry, True

    # -- reads -------------------------------------------------------------------------------
    def balance(self, user_id: str) -> int:
        return self._repo.balance(user_id)

    def vote_weight(self, contribution: int) -> int:
        return rules.vote_weight(contribution, self._settings.vote_weight_thresholds)

    def pin_weight(self, tx: Transaction, user_id: str, contribution: int) -> None:
        """Make `tx` fail (LostRace) if the user's contribution has reached a higher weight since it was read, so a
        vote's recorded weight is the one the voter had when the vote committed."""
        threshold = rules.next_threshold(contribution, self._settings.vote_weight_thresholds)
        if threshold is not None:
            self._repo.hold_below(tx, user_id, threshold)

    def ledger(self, user_id: str, limit: int, cursor: Optional[str]) -> rules.ContributionLedgerPage:
        scope = f"contribution|{user_id}"
        items, last = self._repo.ledger_page(user_id, limit, self._cursors.decode(cursor, scope))
        return rules.ContributionLedgerPage(
            items=[rules.ContributionEntry.model_validate(i) for i in items],
            next_cursor=self._cursors.encode(last, scope),
        )
