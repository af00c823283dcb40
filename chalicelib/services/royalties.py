"""Designer royalties: owed when an order line of their product is paid, credited once, reversed on refund.

The record of what is owed is written in the transaction that marks the order paid (so it is never lost),
then settled into the designer's ledger right after commit or by the scheduled settlement (so a busy designer
account never slows a checkout). Each record moves due -> credited -> reversal_due -> reversed (or
due -> voided when the order is cancelled before it was credited), each move a condition on its status.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from chalicelib.adapters.clock import iso
from chalicelib.adapters.designs_repo import DesignRepository
from chalicelib.adapters.dynamo import Transaction
from chalicelib.adapters.royalties_repo import RoyaltyRepository
from chalicelib.domain.designs import royalty_points
from chalicelib.domain.orders import Order
from chalicelib.domain.points import Entry, Profile
from chalicelib.domain.transitions import Transition
from chalicelib.services.accounts import Accounts, Plan


class Royalties:
    def __init__(self, repo: RoyaltyRepository, designs: DesignRepository, accounts: Accounts, rate: str) -> None:
        self._repo = repo
        self._designs = designs
        self._accounts = accounts
        self._rate = rate

    def follow(self, tx: Transaction, t: Transition) -> None:
        """In the transaction of an order's change: record what its paid lines owe, or undo it on a refund."""
        if t.rule.royalties == "owe":
            self._owe(tx, t.after)
        elif t.rule.royalties == "reverse":
            self._reverse(tx, t.after)

    def _owe(self, tx: Transaction, order: Order) -> None:
        for line in order.designer_lines:
            self._repo.add(tx, {"order_id": order.order_id, "sku": line.sku, "designer_id": line.designer_id,
                                "design_id": line.design_id, "qty": line.qty, "created_at": order.updated_at,
                                "points": royalty_points(line.line_total_fen, self._rate)})

    def _reverse(self, tx: Transaction, order: Order) -> None:
        if not order.designer_lines:
            return
        for record in self._repo.of_order(order.order_id):
            if record["status"] == "due":
                self._repo.move(tx, record, "voided", due=False)
            elif record["status"] == "credited":
                self._repo.move(tx, record, "reversal_due", due=True)

    def settle_order(self, order: Order) -> int:
        """Right after a commit that paid, cancelled or refunded `order`: settle its lines, if any are owed."""
        return self.settle(order.order_id) if order.designer_lines else 0

    def settle(self, order_id: Optional[str] = None) -> int:
        """Credit (or reverse) what is due: for one order, or everything due. Safe to run any time."""
        if order_id:
            records = self._repo.of_order(order_id)
        else:
            records = self._repo.due(iso(self._accounts.clock.now()))
        settled = 0
        for record in records:
            if record["status"] in ("due", "reversal_due"):
                settled += self._settle_one(record["order_id"], record["sku"], record["designer_id"])
        return settled

    def _settle_one(self, order_id: str, sku: str, designer_id: str) -> int:
        def plan(profile: Profile, now: dt.datetime, tx: Transaction) -> Plan:
            record = self._repo.get(order_id, sku)
            if not record or record["status"] not in ("due", "reversal_due"):
                return Plan(None, result=0)  # someone else settled it
            crediting = record["status"] == "due"
            sign = 1 if crediting else -1
            self._repo.move(tx, record, "credited" if crediting else "reversed", due=False)
            if record.get("design_id"):
                self._designs.count_sales(tx, record["design_id"], sign * record["qty"], sign * record["points"])
            if not record["points"]:
                return Plan(None, result=1)
            entry = Entry(delta=sign * record["points"], kind="royalty" if crediting else "reversal",
                          ref=f"royalty:{order_id}:{sku}")
            return Plan(profile.posted([entry]), [entry], 1)

        result: int = self._accounts.change(designer_id, plan)
        return result
