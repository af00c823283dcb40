"""What an order's change of status does, as data: one row per (from, to), and a pure `transition` that applies it.

The service reads the order, calls `transition`, and writes what it returns in one transaction:
the order, the buyer's ledger entries, the stock that moves, the event partners receive, and the
designer royalties owed or reversed. Placing an order is the row whose `from` is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from chalicelib.domain.errors import AlreadyShipped, InvalidRequest, InvalidTransition, NotFound, TooManyPendingOrders
from chalicelib.domain.events import OrderEvent, order_event
from chalicelib.domain.orders import Order, OrderLine, Payment, Shipment, ShipmentRequest
from chalicelib.domain.points import Entry, Profile

PointsMove = Literal["hold", "spend", "spend_hold", "release_hold", "refund"]
StockMove = Literal["take", "give_back"]


@dataclass(frozen=True)
class Rule:
    """What moving an order along one row does, besides changing its status."""

    points: Optional[PointsMove] = None  # what happens to the order's points on the buyer's account
    stock: Optional[StockMove] = None
    event: Optional[str] = None  # the event partners receive (each its own, with only its lines)
    royalties: Optional[Literal["owe", "schedule", "drop"]] = None  # designer royalties: owed when paid, due
    # when the return window after shipping closes, dropped (or reversed, if credited) on a cancel or refund
    refunds_cash: bool = False  # a cash payment that succeeded is given back through the provider
    pending: int = 0  # +1 opens a pending order on the buyer's account (bounded per user), -1 closes it
    cancels_payment: bool = False  # the PaymentIntent is cancelled at the provider, so no charge lands later
    releases_purchases: bool = False  # the order stops counting against its buyer's per-user limits


_RELEASE = Rule(points="release_hold", stock="give_back", pending=-1, cancels_payment=True, releases_purchases=True)
TRANSITIONS: dict[tuple[Optional[str], str], Rule] = {
    (None, "pending_payment"): Rule(points="hold", stock="take", pending=1),
    (None, "paid"): Rule(points="spend", stock="take", event="order.paid", royalties="owe"),
    ("pending_payment", "paid"): Rule(points="spend_hold", event="order.paid", royalties="owe", pending=-1),
    ("pending_payment", "expired"): _RELEASE,
    ("pending_payment", "cancelled"): _RELEASE,
    ("pending_payment", "payment_failed"): _RELEASE,
    ("paid", "shipped"): Rule(event="order.shipped", royalties="schedule"),
    ("paid", "partially_shipped"): Rule(event="order.shipped"),
    ("partially_shipped", "partially_shipped"): Rule(event="order.shipped"),
    ("partially_shipped", "shipped"): Rule(event="order.shipped", royalties="schedule"),
    ("partially_shipped", "refunded"): Rule(
        points="refund",
        stock="give_back",
        event="order.refunded",
        royalties="drop",
        refunds_cash=True,
        releases_purchases=True,
    ),
    ("paid", "cancelled"): Rule(
        points="refund",
        stock="give_back",
        event="order.cancelled",
        royalties="drop",
        refunds_cash=True,
        releases_purchases=True,
    ),
    ("paid", "refunded"): Rule(
        points="refund",
        stock="give_back",
        event="order.refunded",
        royalties="drop",
        refunds_cash=True,
        releases_purchases=True,
    ),
    ("shipped", "refunded"): Rule(
        points="refund", event="order.refunded", royalties="drop", refunds_cash=True, releases_purchases=True
    ),
}
# (available, held) change per point of the order, and the ledger kind
_POINTS: dict[str, tuple[int, int, str]] = {
    "hold": (-1, 1, "hold"),
    "spend": (-1, 0, "spend"),
    "spend_hold": (0, -1, "spend"),
    "release_hold": (1, -1, "release"),
    "refund": (1, 0, "refund"),
}
CANCELLABLE = ("pending_payment", "paid")
SHIPPING = ("partially_shipped", "shipped")  # reached through `shipping`, which records the parcel


def can_move(current: str, target: str) -> bool:
    return (current, target) in TRANSITIONS


@dataclass(frozen=True)
class Transition:
    """One change of an order and everything that goes with it."""

    before: Optional[Order]  # None when the order is being placed
    after: Order
    rule: Rule
    ledger: tuple[Entry, ...] = ()
    stock: tuple[OrderLine, ...] = ()  # lines whose stock is taken or given back (see rule.stock)
    events: tuple[OrderEvent, ...] = ()  # one per partner told of it

    @property
    def changed(self) -> bool:
        return self.before is None or self.before is not self.after

    @property
    def moves_account(self) -> bool:
        """Whether the buyer's account changes (points, or the count of open pending orders)."""
        return bool(self.ledger) or self.rule.pending != 0


def check_pending_limit(profile: Profile, t: Transition, max_pending_orders: int) -> None:
    """A user holds stock in at most `max_pending_orders` unpaid orders at once (stock hoarding)."""
    if t.rule.pending > 0 and profile.pending_orders >= max_pending_orders:
        raise TooManyPendingOrders(
            f"you already have {profile.pending_orders} orders waiting for payment; pay or cancel one first",
            {"pending_orders": profile.pending_orders, "max_pending_orders": max_pending_orders},
        )


def placing(order: Order) -> Transition:
    """What placing `order` (paid at once, or pending payment) does."""
    return _apply(None, order, TRANSITIONS[(None, order.status)])


def transition(order: Order, target: str, at: str, payment: Optional[Payment] = None) -> Transition:
    """Move `order` to `target` at `at` (ISO time). Moving to the status it has changes nothing
    (duplicate webhooks, double clicks); a move the table has no row for is refused. `payment` is the payment
    that pays the order when its PaymentIntent was never attached (recorded, so a refund can find it)."""
    if order.status == target:
        return Transition(order, order, Rule())
    if target in SHIPPING:
        raise InvalidTransition(
            f"only its partners ship an order ({target} comes from shipping())", {"from": order.status, "to": target}
        )
    rule = TRANSITIONS.get((order.status, target))
    if rule is None:
        raise InvalidTransition(f"a {order.status} order cannot become {target}", {"from": order.status, "to": target})
    changes: dict[str, object] = {"status": target, "updated_at": at, "expires_at": None}
    paying = order.payment or payment
    if target == "paid" and paying is not None:
        changes["payment"] = paying.model_copy(update={"status": "succeeded"})
    if order.payment and rule.refunds_cash and order.payment.status == "succeeded":
        changes["payment"] = order.payment.model_copy(update={"status": "refund_pending"})  # the provider is asked next
    return _apply(order, order.model_copy(update=changes), rule)


def shipping(order: Order, partner_id: str, request: ShipmentRequest, at: str) -> Transition:
    """Partner `partner_id` reports a parcel with some of its lines (by default all it has not shipped yet).
    The order is `shipped` once every line that travels is, `partially_shipped` before. Reporting lines already shipped again
    changes nothing (a partner's retry); an order without lines of this partner does not exist for it."""
    own = [line.sku for line in order.lines_of(partner_id)]
    if not own:
        raise NotFound(f"order {order.order_id!r} not found", {"order_id": order.order_id})
    done = order.shipped_skus
    wanted = request.skus or [sku for sku in own if sku not in done]
    foreign = [sku for sku in wanted if sku not in own]
    if foreign:
        raise InvalidRequest(
            "skus must be lines of this order that you ship",
            {"fields": {"skus": f"not lines of yours: {', '.join(foreign)}"}},
        )
    fresh = [sku for sku in dict.fromkeys(wanted) if sku not in done]
    if not fresh:
        return Transition(order, order, Rule())
    if len(fresh) < len(set(wanted)):
        again = sorted(set(wanted) - set(fresh))
        raise AlreadyShipped(f"already shipped: {', '.join(again)}; report the others alone", {"skus": again})
    # a voucher's codes are delivered in the order, a booking is taken at the house: neither is a parcel
    parcels = {line.sku for line in order.lines if not line.digital and line.booking is None}
    target = "shipped" if done | set(fresh) >= parcels else "partially_shipped"
    rule = TRANSITIONS.get((order.status, target))
    if rule is None:
        # "to" is always "shipped": whether another partner has lines in the order is none of this partner's business
        raise InvalidTransition(f"a {order.status} order cannot be shipped", {"from": order.status, "to": "shipped"})
    parcel = Shipment(
        carrier=request.carrier,
        tracking_number=request.tracking_number,
        shipped_at=at,
        partner_id=partner_id,
        skus=fresh,
    )
    after = order.model_copy(update={"status": target, "updated_at": at, "shipments": [*order.shipments, parcel]})
    return _apply(order, after, rule)


def _apply(before: Optional[Order], after: Order, rule: Rule) -> Transition:
    ledger: tuple[Entry, ...] = ()
    if rule.points and after.points_applied:
        available, held, kind = _POINTS[rule.points]
        points = after.points_applied
        ledger = (Entry(delta=available * points, held_delta=held * points, kind=kind, ref=f"order:{after.order_id}"),)
    shipped = before.shipped_skus if before else set()
    # a voucher's codes were shown once its order was paid: they are void, never back on sale
    revealed = rule.stock == "give_back" and before is not None and before.status != "pending_payment"
    stock = (
        tuple(line for line in after.lines if line.sku not in shipped and not (revealed and line.is_voucher))
        if rule.stock
        else ()
    )
    return Transition(before, after, rule, ledger, stock, _events(after, rule.event))


def _events(order: Order, event: Optional[str]) -> tuple[OrderEvent, ...]:
    """Each partner hears of its own lines: a shipment only the partner that sent it; anything else every
    partner with lines in the order."""
    if event is None:
        return ()
    if event == "order.shipped":
        parcel = order.shipments[-1]
        assert parcel.partner_id is not None
        event_id = f"evt-{order.order_id}-shipment-{len(order.shipments)}"
        return (order_event(event_id, event, order.updated_at, order, parcel.partner_id, parcel),)
    return tuple(
        order_event(f"evt-{order.order_id}-{order.status}-{partner}", event, order.updated_at, order, partner)
        for partner in order.partners
    )


PaymentVerdict = Literal["pay", "keep", "refund", "ignore"]


def payment_verdict(order: Order, intent_id: str, amount_fen: object, currency: object) -> PaymentVerdict:
    """What a signed `payment_intent.succeeded` for `order` means: pay the order (id, amount and currency match a
    pending order), keep (the order already has this payment: a redelivery changes nothing, never refunds twice),
    refund (money arrived that the order will never keep, once), or ignore (not this order's payment)."""
    if order.payment is not None and order.payment.payment_intent_id != intent_id:
        return "ignore"
    if order.payment is not None and order.payment.status in ("succeeded", "refund_pending", "refunded"):
        return "keep"
    if order.late_payment_refund and order.late_payment_refund.get("payment_intent_id") == intent_id:
        return "keep"  # refunded once already
    matches = currency == "cny" and amount_fen == order.cash_due_fen and order.cash_due_fen > 0
    if order.status == "pending_payment" and matches:
        return "pay"
    return "refund" if isinstance(amount_fen, int) and amount_fen > 0 else "ignore"
