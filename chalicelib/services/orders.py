"""An order's life after checkout: reads, payment events, expiry, cancel, refund, shipment."""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from chalicelib import logs
from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import iso, new_id
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.orders_repo import OrderRepository
from chalicelib.adapters.outbox import Outbox
from chalicelib.domain import checkout as rules
from chalicelib.domain.errors import InvalidTransition, NotCancellable, NotFound, PaymentProviderError
from chalicelib.domain.events import order_event
from chalicelib.services.accounts import Accounts, Plan
from chalicelib.services.retry import LostRace, on_lost_race
from chalicelib.services.royalties import Royalties

log = logs.get("orders")
RELEASES = ("expired", "cancelled", "payment_failed")  # from pending_payment: holds go back
EVENTS = {"paid": "order.paid", "shipped": "order.shipped", "refunded": "order.refunded"}


class OrderService:
    def __init__(self, repo: OrderRepository, accounts: Accounts, outbox: Outbox, royalties: Royalties,
                 payments: Any, audit: AuditRepository, cursors: CursorCodec) -> None:
        self._repo = repo
        self._accounts = accounts
        self._outbox = outbox
        self._royalties = royalties
        self._payments = payments
        self._audit = audit
        self._cursors = cursors

    # -- reads -------------------------------------------------------------------------------
    def get(self, order_id: str, user_id: Optional[str] = None) -> dict[str, Any]:
        """The order; with `user_id`, only if it is theirs (anyone else is told it does not exist)."""
        order = self._repo.get(order_id)
        if not order or (user_id is not None and order["user_id"] != user_id):
            raise NotFound(f"order {order_id!r} not found", {"order_id": order_id})
        return order

    def page(self, status: Optional[str], user_id: Optional[str], limit: int, cursor: Optional[str]) -> rules.OrderPage:
        scope = f"orders|{status or '*'}|{user_id or '*'}"
        items, last = self._repo.page(status, user_id, limit, self._cursors.decode(cursor, scope))
        return rules.OrderPage(items=[rules.Order.model_validate(o) for o in items], next_cursor=self._cursors.encode(last, scope))

    # -- transitions -------------------------------------------------------------------------
    def cancel(self, user_id: str, order_id: str) -> dict[str, Any]:
        order = self.get(order_id, user_id)
        if order["status"] not in ("pending_payment", "paid"):
            raise NotCancellable(f"a {order['status']} order cannot be cancelled", {"status": order["status"]})
        return self.move(order_id, "cancelled", actor=user_id)

    def refund(self, actor: str, order_id: str, reason: str) -> dict[str, Any]:
        self.get(order_id)
        return self.move(order_id, "refunded", actor=actor, audit_reason=reason)

    def ship(self, order_id: str, shipment: rules.ShipmentRequest) -> dict[str, Any]:
        self.get(order_id)
        return self.move(order_id, "shipped", extra={"shipment": {**shipment.model_dump(), "shipped_at": None}})

    def retry_refunds(self, min_age_s: int = 60, limit: int = 100) -> int:
        """Refunds the provider failed (or was never reached for) after a cancel or refund committed."""
        cutoff = iso(self._accounts.clock.now() - dt.timedelta(seconds=min_age_s))
        done = 0
        for order_id in self._repo.refunds_due(cutoff, limit):
            order = self._refund_cash(self.get(order_id))
            done += order["payment"]["status"] == "refunded"
        return done

    def expire_overdue(self, limit: int = 100) -> int:
        expired = 0
        for order_id in self._repo.overdue(iso(self._accounts.clock.now()), limit):
            try:
                self.move(order_id, "expired")
                expired += 1
            except (InvalidTransition, NotFound):
                continue
        return expired

    def move(self, order_id: str, target: str, *, actor: Optional[str] = None, audit_reason: str = "",
             extra: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        """Move an order to `target` with everything that goes with it, in one transaction.

        Moving to the status it already has changes nothing (duplicate webhooks, double clicks)."""

        def attempt() -> tuple[dict[str, Any], dict[str, Any], Optional[dict[str, Any]]]:
            before = self.get(order_id)
            if before["status"] == target:
                return before, before, None
            if not rules.can_move(before["status"], target):
                raise InvalidTransition(f"a {before['status']} order cannot become {target}",
                                        {"from": before["status"], "to": target})
            profile = self._accounts.load(before["user_id"])
            now = self._accounts.clock.now()
            after = self._after(before, target, iso(now), extra)
            plan = self._points(before, after, profile)
            plan.ops.append(self._repo.save_op(before, after))
            plan.labels.append("order")
            for line in self._stock_back(before, target):
                plan.ops.append(self._repo.return_stock_op(line["sku"], line["qty"]))
                plan.labels.append("stock")
            event = self._event(before, after)
            if event:
                plan.ops.append(self._outbox.put_op(event))
                plan.labels.append("outbox")
            royalty_ops, royalty_labels = self._royalty_ops(before, after)
            plan.ops += royalty_ops
            plan.labels += royalty_labels
            if actor and audit_reason:
                plan.ops.append(self._audit.record_op(actor, f"order.{target}", order_id,
                                                      {"status": before["status"]},
                                                      {"status": target, "reason": audit_reason}, after["updated_at"]))
                plan.labels.append("audit")
            self._accounts.commit(profile, plan, now, lambda label: LostRace())
            return before, after, event

        before, after, event = on_lost_race(attempt, f"order {order_id!r}")
        if before is not after:
            log.info("order state changed", extra={"order_id": order_id, "from_status": before["status"],
                                                   "to_status": after["status"], "user_id": after["user_id"]})
        if event:
            self._outbox.publish(event)
            self._royalties.settle_order(after)
        return self._refund_cash(after)

    def _royalty_ops(self, before: dict[str, Any], after: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
        if after["status"] == "paid":
            return self._royalties.owed_ops(after, after["updated_at"])
        if before["status"] in ("paid", "shipped") and after["status"] in ("cancelled", "refunded"):
            return self._royalties.reversal_ops(before)
        return [], []

    def _after(self, before: dict[str, Any], target: str, now: str, extra: Optional[dict[str, Any]]) -> dict[str, Any]:
        after = {**before, "status": target, "updated_at": now, **(extra or {})}
        after.pop("version", None)
        if target != "pending_payment":
            after["expires_at"] = None
        if target == "shipped":
            after["shipment"] = {**after["shipment"], "shipped_at": now}
        if target == "paid" and after.get("payment"):
            after["payment"] = {**after["payment"], "status": "succeeded"}
        if target in ("cancelled", "refunded") and (after.get("payment") or {}).get("status") == "succeeded":
            after["payment"] = {**after["payment"], "status": "refund_pending"}  # the provider is asked next
        return after

    def _points(self, before: dict[str, Any], after: dict[str, Any], profile: dict[str, Any]) -> Plan:
        points, ref = before["points_applied"], f"order:{before['order_id']}"
        if not points:
            return Plan(None)
        if before["status"] == "pending_payment" and after["status"] == "paid":
            entry = {"delta": 0, "held_delta": -points, "kind": "spend", "ref": ref}
        elif before["status"] == "pending_payment" and after["status"] in RELEASES:
            entry = {"delta": points, "held_delta": -points, "kind": "release", "ref": ref}
        elif after["status"] in ("cancelled", "refunded"):
            entry = {"delta": points, "held_delta": 0, "kind": "refund", "ref": ref}
        else:
            return Plan(None)
        return Plan({**profile, "points_available": profile["points_available"] + entry["delta"],
                     "points_held": profile["points_held"] + entry["held_delta"]}, [entry])

    def _stock_back(self, before: dict[str, Any], target: str) -> list[dict[str, Any]]:
        """Stock returns on release, cancel and refund, except for goods that already shipped."""
        if target not in RELEASES + ("refunded",) or before["status"] == "shipped":
            return []
        existing = self._repo.skus([line["sku"] for line in before["lines"]])
        return [line for line in before["lines"] if line["sku"] in existing]

    def _event(self, before: dict[str, Any], after: dict[str, Any]) -> Optional[dict[str, Any]]:
        event_type = EVENTS.get(after["status"])
        if after["status"] == "cancelled" and before["status"] == "paid":
            event_type = "order.cancelled"  # partners only hear of orders they were told were paid
        if not event_type:
            return None
        return order_event(new_id("evt"), event_type, after["updated_at"], after).model_dump(mode="json")

    def _refund_cash(self, order: dict[str, Any]) -> dict[str, Any]:
        """Give back the cash of a cancelled or refunded order that was paid; safe to repeat.

        It runs after the state change commits, which set the payment to `refund_pending`; if the provider
        fails, it stays so (and listed as due) until the scheduled retry refunds it, always with the same
        refund key so the provider never pays twice."""
        payment = order.get("payment") or {}
        if payment.get("status") != "refund_pending":
            return order
        try:
            refund_id = self._payments().refund(payment["payment_intent_id"], order["cash_due_fen"],
                                                f"refund-{order['order_id']}")
        except PaymentProviderError as exc:
            log.warning("refund failed; it will be retried", extra={"order_id": order["order_id"], "error": exc.message})
            return order
        self._repo.mark_refunded(order["order_id"], refund_id)
        return self.get(order["order_id"])

    def refund_late_payment(self, order: dict[str, Any], payment_intent_id: str, amount_fen: int) -> None:
        """Money that arrived for an order no longer payable goes back (never kept without an order)."""
        refund_id = self._payments().refund(payment_intent_id, amount_fen, f"late-{payment_intent_id}")
        self._repo.record_late_refund(order["order_id"], payment_intent_id, refund_id)
