"""Designer royalties: owed when an order line of their product is paid, credited once, reversed on refund.

The record of what is owed is written in the transaction that marks the order paid (so it is never lost),
then settled into the designer's ledger right after commit or by the scheduled relay (so a busy designer
account never slows a checkout). Each record moves due -> credited -> reversal_due -> reversed (or
due -> voided when the order is cancelled before it was credited), each move a condition on its status.
"""
from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.clock import iso
from chalicelib.adapters.designs_repo import DesignRepository
from chalicelib.adapters.royalties_repo import RoyaltyRepository
from chalicelib.domain.designs import royalty_points
from chalicelib.services.accounts import Accounts, Plan
from chalicelib.services.retry import LostRace


class Royalties:
    def __init__(self, repo: RoyaltyRepository, designs: DesignRepository, accounts: Accounts, rate: str) -> None:
        self._repo = repo
        self._designs = designs
        self._accounts = accounts
        self._rate = rate

    def owed_ops(self, order: dict[str, Any], now: str) -> tuple[list[dict[str, Any]], list[str]]:
        """For the transaction that marks `order` paid: one record per line of a designer's product."""
        ops = [self._repo.record_op({
            "order_id": order["order_id"], "sku": line["sku"], "designer_id": line["designer_id"],
            "design_id": line.get("design_id"), "qty": line["qty"], "created_at": now,
            "points": royalty_points(line["line_total_fen"], self._rate)})
            for line in order["lines"] if line.get("designer_id")]
        return ops, ["royalty"] * len(ops)

    def reversal_ops(self, order: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
        """For the transaction that cancels or refunds a paid `order`."""
        if not any(line.get("designer_id") for line in order["lines"]):
            return [], []
        ops = []
        for record in self._repo.of_order(order["order_id"]):
            if record["status"] == "due":
                ops.append(self._repo.move_op(record, "voided", due=False))
            elif record["status"] == "credited":
                ops.append(self._repo.move_op(record, "reversal_due", due=True))
        return ops, ["royalty"] * len(ops)

    def settle_order(self, order: dict[str, Any]) -> int:
        """Right after a commit that paid, cancelled or refunded `order`: settle its lines, if any are owed."""
        if not any(line.get("designer_id") for line in order["lines"]):
            return 0
        return self.settle(order["order_id"])

    def settle(self, order_id: Optional[str] = None) -> int:
        """Credit (or reverse) what is due: for one order, or everything due. Safe to run any time."""
        if order_id:
            records = self._repo.of_order(order_id)
        else:
            records = [r for r in self._repo.due(iso(self._accounts.clock.now())) if r]
        settled = 0
        for record in records:
            if record["status"] in ("due", "reversal_due"):
                settled += self._settle_one(record["order_id"], record["sku"], record["designer_id"])
        return settled

    def _settle_one(self, order_id: str, sku: str, designer_id: str) -> int:
        def plan(profile: dict[str, Any], now: Any) -> Plan:
            record = self._repo.get(order_id, sku)
            if not record or record["status"] not in ("due", "reversal_due"):
                return Plan(None, result=0)  # someone else settled it
            crediting = record["status"] == "due"
            sign = 1 if crediting else -1
            ops = [self._repo.move_op(record, "credited" if crediting else "reversed", due=False)]
            if record.get("design_id"):
                ops.append(self._designs.sales_op(record["design_id"], sign * record["qty"], sign * record["points"]))
            labels = ["royalty"] * len(ops)
            if not record["points"]:
                return Plan(None, [], ops, labels, 1)
            entry = {"delta": sign * record["points"], "kind": "royalty" if crediting else "reversal",
                     "ref": f"royalty:{order_id}:{sku}"}
            after = {**profile, "points_available": profile["points_available"] + entry["delta"]}
            return Plan(after, [entry], ops, labels, 1)

        return self._accounts.change(designer_id, plan, lambda label: LostRace())
