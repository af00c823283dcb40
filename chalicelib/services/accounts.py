"""The one way a user's profile and balances change: read, plan, commit with the ledger, retry a lost race."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from chalicelib.adapters.clock import iso, new_id
from chalicelib.adapters.users_repo import UserRepository, new_profile
from chalicelib.domain.errors import DomainError
from chalicelib.services.retry import LostRace, on_lost_race


@dataclass
class Plan:
    """What one change does: the profile after it, the ledger entries that explain it, other writes."""

    after: Optional[dict[str, Any]]  # None: leave the profile as it is
    entries: list[dict[str, Any]] = field(default_factory=list)  # delta, held_delta, kind, ref
    ops: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    result: Any = None


class Accounts:
    def __init__(self, repo: UserRepository, clock: Any) -> None:
        self.repo = repo
        self.clock = clock

    def load(self, user_id: str) -> dict[str, Any]:
        found = self.repo.get(user_id)
        if found:
            return found
        return {**new_profile(user_id, iso(self.clock.now())), "stored": False}

    def change(self, user_id: str, planner: Callable[[dict[str, Any], Any], Plan],
               on_condition: Callable[[str], Exception]) -> Any:
        """Run `planner(profile, now)` and commit its plan in one transaction, re-planning on a lost race."""

        def attempt() -> Any:
            before = self.load(user_id)
            now = self.clock.now()
            plan = planner(before, now)
            self.commit(before, plan, now, on_condition)
            return plan.result

        return on_lost_race(attempt, f"the account of {user_id!r}")

    def commit(self, before: dict[str, Any], plan: Plan, now: Any, on_condition: Callable[[str], Exception]) -> None:
        """One transaction: the plan's own writes, the profile (compare-and-swap) and its ledger entries.

        A failed profile condition raises LostRace; other labels go through `on_condition`."""
        ops, labels = list(plan.ops), list(plan.labels)
        if plan.after is not None:
            after = {k: v for k, v in plan.after.items() if k != "stored"}
            ops.append(self.repo.save_op(before, after))
            labels.append("profile")
            ops += self._ledger_ops(before, plan.entries, iso(now))
            labels += ["ledger"] * len(plan.entries)
        if ops:
            self.repo.transact(ops, labels, lambda label: _condition(label, on_condition))

    def _ledger_ops(self, before: dict[str, Any], entries: list[dict[str, Any]], now: str) -> list[dict[str, Any]]:
        available = before["points_available"]
        version = before["version"] + 1
        ops = []
        for seq, entry in enumerate(entries):
            available += entry["delta"]
            ops.append(self.repo.ledger_op(before["user_id"], {
                "entry_id": new_id("l"), "held_delta": 0, **entry, "available_after": available,
                "created_at": now, "seq": f"{version:012d}#{seq:03d}"}))
        return ops


def _condition(label: str, on_condition: Callable[[str], Exception]) -> Exception:
    if label == "profile":
        return LostRace()
    error = on_condition(label)
    return error if isinstance(error, (DomainError, LostRace, Replay)) else LostRace()


class Replay(Exception):
    """A once-only record already exists: the caller answers with the first result."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label
