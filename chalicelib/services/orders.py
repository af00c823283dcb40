"""An order's life after checkout: reads, payment events, expiry, cancel, refund, shipment."""

from __future__ import annotations

import datetime as dt
from typing import Callable, Optional, Sequence

from chalicelib import logs
from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import Transaction
from chalicelib.adapters.orders_repo import OrderRepository
from chalicelib.adapters.outbox import Outbox
from chalicelib.adapters.payments import PaymentGateway
from chalicelib.domain.errors import InvalidTransition, NotCancellable, NotFound, PaymentProviderError
from chalicelib.domain.events import PartnerOrder, partner_view
from chalicelib.domain.orders import Order, OrderPage, Payment, ShipmentRequest
from chalicelib.domain.tickets import TICKET_CATEGORY, registration_id
from chalicelib.domain.transitions import CANCELLABLE, Transition, shipping, transition
from chalicelib.services.accounts import Accounts
from chalicelib.services.retry import on_lost_race
from chalicelib.services.royalties import Royalties
from chalicelib.services.worklists import unseen

log = logs.get("orders")


class OrderService:
    def __init__(
        self,
        repo: OrderRepository,
        accounts: Accounts,
        outbox: Outbox,
        royalties: Royalties,
        payments: Callable[[], PaymentGateway],
        audit: AuditRepository,
        cursors: CursorCodec,
        clock: Clock,
        partner_routes: dict[str, str],
        followers: Sequence[Callable[[Transaction, Transition], None]] = (),
    ) -> None:
        self._repo = repo
        self._accounts = accounts
        self._outbox = outbox
        self._royalties = royalties
        self._payments = payments  # builds the gateway on first use
        self._audit = audit
        self._cursors = cursors
        self._clock = clock
        self._routes = partner_routes
        self._followers = followers  # what else an order's change writes in its transaction (event registrations)

    @property
    def provider(self) -> str:
        return self._payments().provider

    # -- reads -------------------------------------------------------------------------------
    def get(self, order_id: str, user_id: Optional[str] = None) -> Order:
        """The order; with `user_id`, only if it is theirs (anyone else is told it does not exist)."""
        order = self._repo.get(order_id)
        if not order or (user_id is not None and order.user_id != user_id):
            raise NotFound(f"order {order_id!r} not found", {"order_id": order_id})
        return order.routed(self._routes)

    def page(self, status: Optional[str], user_id: Optional[str], limit: int, cursor: Optional[str]) -> OrderPage:
        scope = f"orders|{status or '*'}|{user_id or '*'}"
        items, last = self._repo.page(status, user_id, limit, self._cursors.decode(cursor, scope))
        return OrderPage(
            items=[order.routed(self._routes) for order in items], next_cursor=self._cursors.encode(last, scope)
        )

    # -- transitions -------------------------------------------------------------------------
    def cancel(
        self,
        user_id: str,
        order_id: str,
        registration: bool = False,
        guard: Optional[Callable[[Transaction], None]] = None,
    ) -> Order:
        """The buyer's cancel. An event registration's order only through its registration (`registration`),
        which keeps the event's cancel_until; `guard` adds the registration's own condition (not checked in) to the
        cancel's transaction."""
        order = self.get(order_id, user_id)
        if not registration and any(line.category == TICKET_CATEGORY for line in order.lines):
            raise NotCancellable(
                "an event registration is cancelled as a registration (POST "
                "/registrations/{registration_id}/cancel), until the event's cancel_until",
                {"status": order.status, "registration_id": registration_id(order.order_id)},
            )
        if order.status not in CANCELLABLE:
            raise NotCancellable(f"a {order.status} order cannot be cancelled", {"status": order.status})
        now = iso(self._clock.now())
        late = [line.booking for line in order.lines if line.booking and now >= line.booking.cancel_until]
        if late:
            raise NotCancellable(
                f"a booking is cancelled until 2 hours before it starts ({late[0].cancel_until}); ask the house",
                {"status": order.status, "cancel_until": late[0].cancel_until},
            )
        if order.status != "pending_payment" and any(line.is_voucher for line in order.lines):
            raise NotCancellable(
                "a paid order's voucher codes were shown to you, so it is not cancelled here: "
                "ask the shop for a refund",
                {"status": order.status, "vouchers": True},
            )
        try:
            return self.move(order_id, "cancelled", actor=user_id, guard=guard)
        except InvalidTransition:  # a parcel or a refund landed between the check and the write
            now = self.get(order_id, user_id).status
            raise NotCancellable(f"a {now} order cannot be cancelled", {"status": now}) from None

    def refund(self, actor: str, order_id: str, reason: str) -> Order:
        self.get(order_id)
        return self.move(order_id, "refunded", actor=actor, audit_reason=reason)

    def partner_order(self, partner_id: str, order_id: str) -> PartnerOrder:
        """An order as one partner sees it; one without its lines, or not paid yet, does not exist for it."""
        order = self.get(order_id)
        if not order.lines_of(partner_id) or order.status in ("pending_payment", "expired", "payment_failed"):
            raise NotFound(f"order {order_id!r} not found", {"order_id": order_id})
        return partner_view(order, partner_id)

    def ship(self, partner_id: str, order_id: str, parcel: ShipmentRequest) -> PartnerOrder:
        """A partner's parcel: some or all of its lines leave the warehouse."""
        order = self._apply(order_id, lambda order, at: shipping(order, partner_id, parcel, at))
        return partner_view(order, partner_id)

    def move(
        self,
        order_id: str,
        target: str,
        *,
        actor: Optional[str] = None,
        audit_reason: str = "",
        payment: Optional[Payment] = None,
        guard: Optional[Callable[[Transaction], None]] = None,
    ) -> Order:
        """Move an order to `target` with everything that goes with it, in one transaction (with `guard`'s
        conditions, whose failure raises their own error)."""
        return self._apply(
            order_id, lambda order, at: transition(order, target, at, payment), actor, audit_reason, guard
        )

    def _apply(
        self,
        order_id: str,
        step: Callable[[Order, str], Transition],
        actor: Optional[str] = None,
        audit_reason: str = "",
        guard: Optional[Callable[[Transaction], None]] = None,
    ) -> Order:
        """Read the order, take `step`, and write what it returns in one transaction (again if it lost a race)."""

        def attempt() -> Transition:
            t = step(self.get(order_id), iso(self._clock.now()))
            if not t.changed or t.before is None:
                return t
            tx = self._repo.begin()
            self._repo.save(tx, t.after, expected=t.before)
            if guard is not None:
                guard(tx)
            self._accounts.post(tx, t.after.user_id, t.ledger, t.after.updated_at, t.rule.pending)
            if t.rule.stock == "give_back":
                self._repo.give_back_stock(tx, t.stock, t.after.stock_shards)
            if t.rule.releases_purchases and t.after.purchase_limits:
                self._repo.release_purchases(tx, t.after.user_id, t.after.purchase_limits)  # no longer counts
            self._outbox.add(tx, t.events)
            self._royalties.follow(tx, t)
            for follow in self._followers:
                follow(tx, t)
            if actor and audit_reason:
                self._audit.record(
                    tx,
                    actor,
                    f"order.{t.after.status}",
                    order_id,
                    {"status": t.before.status},
                    {"status": t.after.status, "reason": audit_reason},
                    t.after.updated_at,
                )
            tx.commit()
            return t

        return self._committed(on_lost_race(attempt, f"order {order_id!r}"))

    def _committed(self, t: Transition) -> Order:
        """After the commit: log it, send the event, settle royalties, stop or give back cash."""
        if t.changed and t.before is not None:
            log.info(
                "order state changed",
                extra={
                    "order_id": t.after.order_id,
                    "from_status": t.before.status,
                    "to_status": t.after.status,
                    "user_id": t.after.user_id,
                },
            )
            if t.rule.cancels_payment and t.after.payment is not None:
                self._cancel_intent(t.after)
        if t.rule.royalties:  # partners hear of it from the table's stream
            self._royalties.settle_order(t.after)
        return self._refund_cash(t.after)

    # -- scheduled work ----------------------------------------------------------------------
    def retry_refunds(self, min_age_s: int = 60, limit: int = 100) -> int:
        """Refunds the provider failed (or was never reached for) after a cancel or refund committed."""
        cutoff = iso(self._clock.now() - dt.timedelta(seconds=min_age_s))
        done = 0
        for order_id in unseen(lambda: self._repo.refunds_due(cutoff, limit)):
            try:
                order = self._refund_cash(self.get(order_id))
            except Exception:  # one order's failure never stops the others' refunds
                log.exception("refund retry failed for one order", extra={"order_id": order_id})
                continue
            done += order.payment is not None and order.payment.status == "refunded"
        return done

    def expire_overdue(self, page_size: int = 100) -> int:
        """Expire every pending order whose payment window has closed, a page at a time until none is left;
        returns how many this run expired."""
        now, expired = iso(self._clock.now()), 0
        for order_id in unseen(lambda: self._repo.overdue(now, page_size)):
            try:
                expired += self.move(order_id, "expired").status == "expired"
            except (InvalidTransition, NotFound):
                continue
            except Exception:  # one order that cannot move never keeps the others holding stock
                log.exception("expiring one order failed; the next sweep retries it", extra={"order_id": order_id})
        return expired

    # -- cash --------------------------------------------------------------------------------
    def _refund_cash(self, order: Order) -> Order:
        """Give back the cash of a cancelled or refunded order that was paid; safe to repeat.

        It runs after the state change commits, which set the payment to `refund_pending`; if the provider
        fails, it stays so (and listed as due) until the scheduled retry refunds it, always with the same
        refund key so the provider never pays twice."""
        payment = order.payment
        if payment is None or payment.status != "refund_pending":
            return order
        try:
            refund_id = self._payments().refund(
                payment.payment_intent_id, order.cash_due_fen, f"refund-{order.order_id}"
            )
        except PaymentProviderError as exc:
            log.warning("refund failed; it will be retried", extra={"order_id": order.order_id, "error": exc.message})
            return order
        self._repo.mark_refunded(order.order_id, refund_id)
        return self.get(order.order_id)

    def _cancel_intent(self, order: Order) -> None:
        """An order that can no longer be paid cancels its PaymentIntent, so no charge can land afterwards.
        Idempotent at the provider; if it fails, a charge that still lands is refunded (refund_late_payment)."""
        assert order.payment is not None
        try:
            self._payments().cancel_intent(order.payment.payment_intent_id)
        except PaymentProviderError as exc:
            log.warning(
                "cancelling the PaymentIntent failed; a late charge will be refunded",
                extra={"order_id": order.order_id, "error": exc.message},
            )

    def refund_late_payment(self, order: Order, payment_intent_id: str, amount_fen: int) -> None:
        """Money that arrived for an order no longer payable goes back (never kept without an order)."""
        refund_id = self._payments().refund(payment_intent_id, amount_fen, f"late-{payment_intent_id}")
        self._repo.record_late_refund(order.order_id, payment_intent_id, refund_id)
