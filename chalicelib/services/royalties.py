"""Designer royalties: owed when an order is paid, credited once the return window after shipping has closed,
dropped (or reversed, if already credited) when the order is cancelled or refunded.

The order's transaction writes or moves exactly one royalty record, whatever the number of designer lines, so
no order is too big to pay, cancel or refund. Everything per line — the designs' pending counters, crediting
each designer's account, undoing — happens in the settlement, one small transaction per line, right after the
order's commit and again from the schedule (safe to repeat: every move is a condition on what was read).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Optional

from chalicelib import logs
from chalicelib.adapters.clock import iso
from chalicelib.adapters.designs_repo import DesignRepository
from chalicelib.adapters.dynamo import Contention, LostRace, Replay, Transaction
from chalicelib.adapters.royalties_repo import RoyaltyRepository
from chalicelib.domain.designs import royalty_points
from chalicelib.domain.errors import Conflict
from chalicelib.domain.orders import Order
from chalicelib.domain.points import Entry, Profile
from chalicelib.domain.transitions import Transition
from chalicelib.services.accounts import Accounts, Plan
from chalicelib.services.retry import on_lost_race
from chalicelib.services.worklists import unseen

log = logs.get("royalties")


class Stop(Exception):
    """The order's record moved on (voided while being credited): leave this line to the next step."""


class Royalties:
    def __init__(
        self,
        repo: RoyaltyRepository,
        designs: DesignRepository,
        accounts: Accounts,
        rate: Callable[[], str],
        return_window_days: int,
    ) -> None:
        self._repo = repo
        self._designs = designs
        self._accounts = accounts
        self._rate = rate  # the policy's royalty rate in force now
        self._window = dt.timedelta(days=return_window_days)

    # -- in the order's transaction ------------------------------------------------------------
    def follow(self, tx: Transaction, t: Transition) -> None:
        """Owe (paid), schedule (shipped: due when the return window closes) or drop (cancelled, refunded)."""
        order = t.after
        if not t.rule.royalties or not order.designer_lines:
            return
        if t.rule.royalties == "owe":
            self._repo.add(tx, order.order_id, self._owed(order), order.updated_at)
            return
        record = self._repo.get(order.order_id)
        if record is None:
            return
        if t.rule.royalties == "schedule" and record["status"] == "pending":
            due_at = iso(dt.datetime.fromisoformat(order.updated_at.replace("Z", "+00:00")) + self._window)
            self._repo.move(tx, record, "due", list_at=due_at, due_at=due_at)
        elif t.rule.royalties == "drop" and record["status"] in ("pending", "due", "credited"):
            self._repo.move(tx, record, "voided", list_at=order.updated_at)

    def _owed(self, order: Order) -> list[dict[str, Any]]:
        rate = self._rate()
        return [
            {
                "sku": line.sku,
                "designer_id": line.designer_id,
                "design_id": line.design_id,
                "qty": line.qty,
                "points": royalty_points(line.net_fen, rate),
            }
            for line in order.designer_lines
        ]

    # -- settlement ----------------------------------------------------------------------------
    def settle_order(self, order: Order) -> int:
        """Right after a commit that paid, cancelled or refunded `order`: do what is due on its lines now."""
        return self.settle(order.order_id) if order.designer_lines else 0

    def settle(self, order_id: Optional[str] = None) -> int:
        """Do the work that is due: for one order, or every listed one. Returns how many lines moved."""
        now = iso(self._accounts.clock.now())
        order_ids = [order_id] if order_id else unseen(lambda: [r["order_id"] for r in self._repo.due(now)])
        moved = 0
        for one in order_ids:
            try:
                moved += self._settle_record(one, now)
            except (Contention, LostRace, Conflict):  # a busy design or account: the record stays listed
                log.warning("royalty settlement deferred", extra={"order_id": one}, exc_info=True)
            except Exception:  # one broken record never stops the others being settled
                log.exception("royalty settlement failed for one order", extra={"order_id": one})
        return moved

    def _settle_record(self, order_id: str, now: str) -> int:
        record = self._repo.get(order_id)
        if record is None or "gsi1sk" not in record or record["gsi1sk"] > f"{now}#~":
            return 0  # nothing listed, or not due yet (a shipped order's return window is open)
        step = {"pending": self._accrue, "due": self._credit, "voided": self._undo}.get(record["status"])
        if step is None:
            return 0
        moved = 0
        try:
            for line in record["lines"]:
                moved += step(order_id, line, now)
        except Stop:
            return moved  # the record moved on; its new status has its own work
        after = {"pending": "pending", "due": "credited", "voided": "closed"}[record["status"]]
        tx = self._repo.begin()
        self._repo.move(tx, record, after)  # off the list
        try:
            tx.commit()
        except LostRace:
            pass  # moved meanwhile (shipped, cancelled): its next step is listed
        return moved

    def _accrue(self, order_id: str, line: dict[str, Any], now: str) -> int:
        """Show the line as pending on its design (units sold, pending points)."""
        tx = self._repo.begin()
        self._repo.require(tx, order_id, ("pending", "due"), on_fail=Stop)
        self._repo.put_line(tx, order_id, line, "pending", None, now, on_fail=Replay)
        if line.get("design_id"):
            self._designs.count_sales(tx, line["design_id"], units=line["qty"], pending_points=line["points"])
        try:
            tx.commit()
        except Replay:
            return 0
        return 1

    def _credit(self, order_id: str, line: dict[str, Any], now: str) -> int:
        """Credit the designer: the return window is over."""

        def plan(profile: Profile, at: dt.datetime, tx: Transaction) -> Plan:
            read = self._repo.line(order_id, line["sku"])
            if read is not None and read["status"] != "pending":
                return Plan(None, result=0)  # credited (or undone) already
            self._repo.require(tx, order_id, ("due",), on_fail=Stop)
            self._repo.put_line(tx, order_id, line, "credited", read, now, on_fail=LostRace)
            if line.get("design_id"):
                self._designs.count_sales(
                    tx,
                    line["design_id"],
                    units=0 if read else line["qty"],
                    points=line["points"],
                    pending_points=-line["points"] if read else 0,
                )
            if not line["points"]:
                return Plan(None, result=1)
            entry = Entry(delta=line["points"], kind="royalty", ref=f"royalty:{order_id}:{line['sku']}")
            return Plan(profile.posted([entry]), [entry], 1)

        result: int = self._accounts.change(line["designer_id"], plan)
        return result

    def _undo(self, order_id: str, line: dict[str, Any], now: str) -> int:
        """The order was cancelled or refunded: drop a pending line, reverse a credited one."""

        def attempt() -> int:
            read = self._repo.line(order_id, line["sku"])
            if read is None or read["status"] in ("voided", "reversed"):
                return self._void_unaccrued(order_id, line, read, now)
            if read["status"] == "pending":
                tx = self._repo.begin()
                self._repo.require(tx, order_id, ("voided",), on_fail=Stop)
                self._repo.put_line(tx, order_id, line, "voided", read, now, on_fail=LostRace)
                if line.get("design_id"):
                    self._designs.count_sales(tx, line["design_id"], units=-line["qty"], pending_points=-line["points"])
                tx.commit()
                return 1
            return self._reverse(order_id, line, now)

        return on_lost_race(attempt, f"royalties of order {order_id!r}")

    def _void_unaccrued(self, order_id: str, line: dict[str, Any], read: Optional[dict[str, Any]], now: str) -> int:
        if read is not None:
            return 0  # undone already
        tx = self._repo.begin()  # never accrued: mark it so a late accrual cannot show it
        self._repo.require(tx, order_id, ("voided",), on_fail=Stop)
        self._repo.put_line(tx, order_id, line, "voided", None, now, on_fail=LostRace)
        tx.commit()
        return 0

    def _reverse(self, order_id: str, line: dict[str, Any], now: str) -> int:
        def plan(profile: Profile, at: dt.datetime, tx: Transaction) -> Plan:
            read = self._repo.line(order_id, line["sku"])
            if read is None or read["status"] != "credited":
                return Plan(None, result=0)
            self._repo.require(tx, order_id, ("voided",), on_fail=Stop)
            self._repo.put_line(tx, order_id, line, "reversed", read, now, on_fail=LostRace)
            if line.get("design_id"):
                self._designs.count_sales(tx, line["design_id"], units=-line["qty"], points=-line["points"])
            if not line["points"]:
                return Plan(None, result=1)
            entry = Entry(delta=-line["points"], kind="reversal", ref=f"royalty:{order_id}:{line['sku']}")
            return Plan(profile.posted([entry]), [entry], 1)

        result: int = self._accounts.change(line["designer_id"], plan)
        return result
