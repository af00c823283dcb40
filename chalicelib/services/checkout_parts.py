"""Checkout's extension point: each kind of thing an order sells is a part that plans what the order records of it
and writes its share of the order's one transaction. bootstrap registers the parts; checkout's body knows none."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol

from chalicelib.adapters.bookings_repo import BookingRepository
from chalicelib.adapters.clock import iso
from chalicelib.adapters.dynamo import LostRace, Transaction
from chalicelib.adapters.orders_repo import CheckoutReads, OrderRepository
from chalicelib.adapters.vouchers_repo import VoucherRepository
from chalicelib.domain import checkout as rules
from chalicelib.domain import coupons
from chalicelib.domain.errors import InsufficientStock, PurchaseLimit, SlotFull
from chalicelib.domain.orders import BookingDetail, Order, Voucher
from chalicelib.domain.transitions import Transition
from chalicelib.services.coupons import CouponService, new_coupon_id

Follower = Callable[[Transaction, Order], None]
Shards = dict[str, list[list[int]]]  # {sku: [[shard, units], ...]}


@dataclass(frozen=True)
class Cart:
    """One attempt at placing an order: what was asked, read and priced, and the new order's id and time."""

    user_id: str
    body: rules.OrderRequest
    reads: CheckoutReads
    quote: rules.Quote
    order_id: str
    now: dt.datetime
    attempt: int  # 0 first; more after a lost race (a part may then read what it guessed at first)
    follow: Optional[Follower] = None  # what the caller adds (an event registration: its ticket lines)
    reserved: bool = False  # the stock was set aside already (a waitlist offer); `follow` claims it
    held: Optional[Shards] = None  # where the reserved units are


@dataclass(frozen=True)
class Plan:
    """What a part will write: the order fields that record it, and what its write needs."""

    order: dict[str, Any] = field(default_factory=dict)
    data: Any = None


NOTHING = Plan()


class CheckoutPart(Protocol):
    def plan(self, cart: Cart) -> Plan:
        """Reads at most what it must (raising LostRace to re-plan); never writes."""

    def write(self, tx: Transaction, cart: Cart, t: Transition, plan: Plan) -> None:
        """Adds this part's operations, with what each failure means, to the order's transaction."""


def limit_reached(repo: OrderRepository, user_id: str, product_id: str, limit: int) -> PurchaseLimit:
    bought = repo.purchases(product_id, user_id)
    return PurchaseLimit(
        f"at most {limit} of this product per person; your orders hold {bought}",
        {"product_id": product_id, "limit": limit, "bought": bought},
    )


class SkuStock:
    """Stock taken from each SKU under a condition; a sharded SKU (a drop) takes its units from shard items."""

    def __init__(self, repo: OrderRepository) -> None:
        self._repo = repo

    def plan(self, cart: Cart) -> Plan:
        shards = cart.held if cart.reserved else self._shards(cart)
        return Plan({"stock_shards": shards or {}}, shards)

    def write(self, tx: Transaction, cart: Cart, t: Transition, plan: Plan) -> None:
        lines = [line for line in t.stock if line.booking is None]  # a booking's slots are BookingSlots'
        if cart.reserved:
            self._repo.check_on_sale(tx, lines)
        else:
            self._repo.take_stock(tx, lines, cart.reads.skus, plan.data)

    def _shards(self, cart: Cart) -> Shards:
        """For each sharded SKU, the shards its units come from: first the buyer's home shard, unread; after a
        lost race, from the shards' actual stock (one Query each), or the precise 409 when they are all short."""
        taken: Shards = {}
        for line in cart.quote.lines:
            offer = cart.reads.skus[line.sku]
            if offer.stock_shards <= 1:
                continue
            home = rules.home_shard(cart.user_id, line.sku, offer.stock_shards)
            if cart.attempt == 0:
                taken[line.sku] = [[home, line.qty]]
                continue
            stock = self._repo.shard_stock(line.sku, offer.stock_shards)
            found = rules.allocate(stock, line.qty, home)
            if found is None:
                total = sum(stock.values())
                raise InsufficientStock(f"only {total} of {offer.title!r} left", {"sku": line.sku, "stock": total})
            taken[line.sku] = found
        return taken


class VoucherCodes:
    """Each unit of a voucher line takes one unsold code, to this order only (a lost race picks others)."""

    def __init__(self, vouchers: VoucherRepository) -> None:
        self._vouchers = vouchers

    def plan(self, cart: Cart) -> Plan:
        """Codes picked among the unsold ones; too few listed (the index lags behind the stock the order takes) is
        a lost race, re-planned, and after a few tries the stock it is."""
        picked: list[tuple[str, str]] = []
        for line in cart.quote.lines:
            if cart.reads.skus[line.sku].kind != "voucher":
                continue
            codes = self._vouchers.unsold(line.sku, line.qty)
            if len(codes) < line.qty and cart.attempt >= 5:
                raise InsufficientStock(
                    f"only {len(codes)} of {line.title!r} left", {"sku": line.sku, "stock": len(codes)}
                )
            if len(codes) < line.qty:
                raise LostRace()
            picked += [(line.sku, code) for code in codes]
        return Plan({"vouchers": [Voucher(sku=sku, code=code) for sku, code in picked]}, picked)

    def write(self, tx: Transaction, cart: Cart, t: Transition, plan: Plan) -> None:
        for sku, code in plan.data:
            self._vouchers.sell(tx, sku, code, t.after.order_id, t.after.created_at)


class VoucherFollower:
    """What an order's change does to its voucher codes, in the order's transaction: an order that was never paid
    puts them back on sale (nobody saw them); a paid one that is cancelled or refunded voids them."""

    def __init__(self, vouchers: VoucherRepository) -> None:
        self._vouchers = vouchers

    def follow(self, tx: Transaction, t: Transition) -> None:
        if not t.rule.releases_purchases or not t.after.vouchers or t.before is None:
            return  # only a move that ends the sale (expiry, cancel, refund, even after shipping) touches codes
        change = self._vouchers.unsell if t.before.status == "pending_payment" else self._vouchers.void
        for voucher in t.after.vouchers:
            change(tx, voucher.sku, voucher.code, t.after.order_id, t.after.updated_at)


class CouponUse:
    """The coupon the order uses: to this order only, unused and unexpired when it commits."""

    def __init__(self, coupons: CouponService) -> None:
        self._coupons = coupons

    def plan(self, cart: Cart) -> Plan:
        return NOTHING

    def write(self, tx: Transaction, cart: Cart, t: Transition, plan: Plan) -> None:
        if cart.body.coupon:  # a lost race re-reads it
            self._coupons.use(tx, cart.user_id, cart.body.coupon, t.after.order_id, t.after.created_at)


def coupon_units(quote: rules.Quote) -> dict[str, int]:
    """{coupon template: coupons the order's coupon lines buy}."""
    count: dict[str, int] = {}
    for line in quote.lines:
        if line.coupon_id:
            count[line.coupon_id] = count.get(line.coupon_id, 0) + line.qty
    return count


class CouponPurchase:
    """Coupons bought (a coupon product's lines): issued to the buyer from the template's budget shards."""

    def __init__(self, coupons: CouponService) -> None:
        self._coupons = coupons

    def plan(self, cart: Cart) -> Plan:
        bought = []
        for cid, qty in coupon_units(cart.quote).items():
            template = self._coupons.template(cid)
            issued = [
                coupons.issued_coupon(
                    template, new_coupon_id(cart.now), cart.user_id, "purchase", cart.order_id, cart.now, iso(cart.now)
                )
                for _ in range(qty)
            ]
            bought.append((cid, template, issued, self._coupons.plan(template, cart.user_id, qty, cart.attempt)))
        fields = {
            "coupon_budget": {cid: budget for cid, _, _, budget in bought},
            "coupons": [c["coupon"] for _, _, issued, _ in bought for c in issued],
        }
        return Plan(fields, bought)

    def write(self, tx: Transaction, cart: Cart, t: Transition, plan: Plan) -> None:
        for _, template, issued, budget in plan.data:
            self._coupons.issue(tx, template, cart.user_id, issued, budget)


class PurchaseLimits:
    """A limited drop's units per person, counted over all the buyer's orders under a condition."""

    def __init__(self, repo: OrderRepository) -> None:
        self._repo = repo

    def plan(self, cart: Cart) -> Plan:
        limited = rules.limited_units(cart.quote.lines, cart.reads.skus)
        return Plan({"purchase_limits": {p: q for p, (q, _) in limited.items()}}, limited)

    def write(self, tx: Transaction, cart: Cart, t: Transition, plan: Plan) -> None:
        limited = plan.data

        def reached(product_id: str) -> Callable[[], PurchaseLimit]:
            return lambda: limit_reached(self._repo, cart.user_id, product_id, limited[product_id][1])

        self._repo.count_purchases(tx, cart.user_id, limited, on_fail=reached)


class Tickets:
    """An event's tickets: the registration (or the waitlist offer it claims) the caller writes with the order."""

    def plan(self, cart: Cart) -> Plan:
        return NOTHING

    def write(self, tx: Transaction, cart: Cart, t: Transition, plan: Plan) -> None:
        if cart.follow is not None:
            cart.follow(tx, t.after)


class BookingSlots:
    """NIO House bookings: each slot a booking line covers is one item, raised in the order's transaction on
    condition it stays within the resource's capacity, so a slot is never sold twice (infra/README.md)."""

    def __init__(self, bookings: BookingRepository) -> None:
        self._bookings = bookings

    def plan(self, cart: Cart) -> Plan:
        return NOTHING

    def write(self, tx: Transaction, cart: Cart, t: Transition, plan: Plan) -> None:
        for line in t.after.lines:
            if line.booking is None:
                continue
            offer = cart.reads.skus[line.sku]
            self._bookings.take(
                tx,
                line.booking,
                int((offer.resource or {})["capacity"]),
                line.sku,
                offer.terms_version,
                {"order_id": t.after.order_id, "user_id": t.after.user_id, "title": line.title},
                on_full=_full(line.booking),
            )


def _full(booking: BookingDetail) -> Callable[[str], Callable[[], SlotFull]]:
    def full(slot: str) -> Callable[[], SlotFull]:
        date, start = slot.split(" ")
        return lambda: SlotFull(
            f"{booking.resource_id} is fully booked at {date} {start}",
            {"resource_id": booking.resource_id, "date": date, "start": start},
        )

    return full


class BookingFollower:
    """What an order's change does to its bookings, in its transaction: a move that gives stock back (expiry,
    cancel, refund) frees the slots and drops the day's record and the book's loan."""

    def __init__(self, bookings: BookingRepository) -> None:
        self._bookings = bookings

    def follow(self, tx: Transaction, t: Transition) -> None:
        if t.rule.stock != "give_back" or t.before is None:
            return
        for line in t.after.lines:
            if line.booking is not None:
                self._bookings.give_back(tx, line.booking, t.after.order_id)
