"""Quote and place orders: prices, tiers and stock from the store; one transaction per order."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional, Sequence

from chalicelib import logs
from chalicelib.adapters.clock import Clock, iso, new_id, stamp
from chalicelib.adapters.dynamo import LostRace, Replay, Transaction
from chalicelib.adapters.orders_repo import CheckoutReads, OrderRepository
from chalicelib.adapters.outbox import Outbox
from chalicelib.adapters.payments import PaymentGateway
from chalicelib.adapters.users_repo import new_profile
from chalicelib.domain import checkout as rules
from chalicelib.domain import coupons
from chalicelib.domain.errors import (
    Conflict,
    IdempotencyKeyReused,
    InsufficientPoints,
    NotFound,
)
from chalicelib.domain.orders import Order, Payment
from chalicelib.domain.points import Profile
from chalicelib.domain.transitions import Transition, check_pending_limit, placing
from chalicelib.services.accounts import Accounts
from chalicelib.services.checkout_parts import Cart, CheckoutPart, Follower, Shards, coupon_units, limit_reached
from chalicelib.services.coupons import CouponService
from chalicelib.services.retry import on_lost_race
from chalicelib.services.royalties import Royalties
from chalicelib.settings import Settings

log = logs.get("checkout")
ADDED_LATER = ("expected", "coupon")  # optional OrderRequest fields newer than stored idempotency records


def request_hash(body: rules.OrderRequest) -> str:
    """Optional fields added after the first version are left out when absent, so a retry of a body sent before
    they existed hashes as it did then (and still replays its order)."""
    absent = {name for name in ADDED_LATER if getattr(body, name) is None}
    return hashlib.sha256(json.dumps(body.model_dump(mode="json", exclude=absent), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Placement:
    """An order as asked for, the same on every attempt."""

    user_id: str
    idem_key: str
    digest: str
    body: rules.OrderRequest
    follow: Optional[Follower] = None
    reserved: bool = False
    held: Optional[Shards] = None


class CheckoutService:
    def __init__(
        self,
        repo: OrderRepository,
        accounts: Accounts,
        outbox: Outbox,
        royalties: Royalties,
        payments: Callable[[], PaymentGateway],
        clock: Clock,
        settings: Settings,
        coupons: CouponService,
        parts: Sequence[CheckoutPart],
    ) -> None:
        self._repo = repo
        self._coupons = coupons
        self._parts = parts  # each kind of thing an order sells, in the order they write
        self._accounts = accounts
        self._outbox = outbox
        self._royalties = royalties
        self._payments = payments  # builds the gateway on first payment
        self._clock = clock
        self._settings = settings

    def quote(self, user_id: str, body: rules.OrderRequest, tickets: bool = False) -> rules.Quote:
        """No writes; as exact as an order about what stops it: a sharded SKU's stock is summed over its shards
        and a limited product's units are counted with what the buyer's orders hold."""
        reads = self._repo.checkout_reads(user_id, None, [i.sku for i in body.items], body.coupon)
        skus = reads.skus
        if any(offer.stock_shards > 1 for offer in skus.values()):
            skus = {
                sku: offer._replace(stock=sum(self._repo.shard_stock(sku, offer.stock_shards).values()), stock_shards=1)
                if offer.stock_shards > 1
                else offer
                for sku, offer in skus.items()
            }
        quote = self._checked_quote(body, skus, self._profile(reads.profile, user_id), tickets, coupon=reads.coupon)
        for product_id, (qty, limit) in rules.limited_units(quote.lines, skus).items():
            if self._repo.purchases(product_id, user_id) + qty > limit:
                raise limit_reached(self._repo, user_id, product_id, limit)
        for cid, qty in coupon_units(quote).items():
            self._coupons.check_room(cid, user_id, qty)
        return quote

    def _checked_quote(
        self,
        body: rules.OrderRequest,
        skus: dict[str, rules.SkuOffer],
        profile: Profile,
        tickets: bool,
        reserved: bool = False,
        coupon: Optional[dict[str, Any]] = None,
    ) -> rules.Quote:
        at, today = stamp(self._clock)
        lines = rules.price(body.items, skus, profile.tier, today, at, tickets, reserved)
        discounts = None
        if body.coupon:
            if coupon is None:  # another user's coupon does not exist for this one
                raise NotFound(
                    f"you hold no coupon {body.coupon!r}",
                    {"fields": {"coupon": "not one of your coupons"}, "coupon": body.coupon},
                )
            discounts = coupons.discount(coupon, lines, at)
        quote = rules.split(lines, body.points, self._settings.min_charge_fen, discounts, body.coupon)
        rules.check_expected(quote, body.expected)
        if body.points > profile.points_available:
            raise InsufficientPoints(
                f"you have {profile.points_available} points available, not {body.points}",
                {"available": profile.points_available, "points": body.points},
            )
        return quote

    def place(
        self,
        user_id: str,
        idem_key: str,
        body: rules.OrderRequest,
        follow: Optional[Follower] = None,
        reserved: bool = False,
        shards: Optional[Shards] = None,
    ) -> Order:
        """The order (status paid, or pending_payment with a PaymentIntent); a replay returns the first one.
        `follow` adds what else the order's transaction must write (an event registration: its ticket lines are
        sold only then); with `reserved`, the stock was set aside already and `follow` must claim it."""
        req = Placement(user_id, idem_key, request_hash(body), body, follow, reserved, shards)
        tries = iter(range(1_000))
        try:
            t = on_lost_race(lambda: self._attempt(req, next(tries)), "checkout")
        except Replay:
            return self._replay(user_id, idem_key, req.digest)
        log.info(
            "order state changed",
            extra={"order_id": t.after.order_id, "from_status": None, "to_status": t.after.status, "user_id": user_id},
        )
        if t.rule.royalties:  # partners hear of it from the table's stream; royalties are shown as pending now
            self._royalties.settle_order(t.after)
        return self._with_payment(t.after)

    def _attempt(self, req: Placement, attempt: int) -> Transition:
        reads = self._repo.checkout_reads(req.user_id, req.idem_key, [i.sku for i in req.body.items], req.body.coupon)
        self._check_replay(req, reads)
        profile = self._profile(reads.profile, req.user_id)
        quote = self._checked_quote(req.body, reads.skus, profile, req.follow is not None, req.reserved, reads.coupon)
        rules.check_address(req.body.shipping_address, quote.lines)
        now, order_id = self._clock.now(), new_id("o")
        cart = Cart(req.user_id, req.body, reads, quote, order_id, now, attempt, req.follow, req.reserved, req.held)
        plans = [(part, part.plan(cart)) for part in self._parts]
        fields = {name: value for _, plan in plans for name, value in plan.order.items()}
        t = placing(self._new_order(order_id, req, quote, now).model_copy(update=fields))
        check_pending_limit(profile, t, self._settings.max_pending_orders)
        tx = self._repo.begin()
        self._repo.add(tx, t.after, req.digest, on_replay=Replay)
        for part, plan in plans:
            part.write(tx, cart, t, plan)
        self._outbox.add(tx, t.events)
        self._royalties.follow(tx, t)
        self._write_account(tx, profile, t, reads.skus)
        tx.commit()
        return t

    def _profile(self, found: Optional[Profile], user_id: str) -> Profile:
        """The buyer's account as of now (lots past their month expired), or a new one."""
        return self._accounts.settled(found) if found else replace(new_profile(user_id, ""), stored=False)

    def _write_account(self, tx: Transaction, profile: Profile, t: Transition, skus: dict[str, rules.SkuOffer]) -> None:
        """Points held or spent under the profile's compare-and-swap (which also guards the pending-orders limit);
        an order that moves no points still proves the buyer is an owner when a line is owner-only."""
        if t.moves_account:
            self._accounts.record(tx, profile, profile.posted(t.ledger, t.rule.pending), t.ledger, t.after.created_at)
        elif any(skus[line.sku].owner_only for line in t.after.lines):
            self._accounts.repo.require_owner(tx, t.after.user_id, on_fail=LostRace)  # the re-read names the error

    def _check_replay(self, req: Placement, reads: CheckoutReads) -> None:
        if reads.idempotency:
            raise Replay()
        if reads.coupon and reads.coupon.get("order_id") and self._repo.idempotency(req.user_id, req.idem_key):
            raise Replay()  # this key's first request used the coupon, and committed while the batch read

    def _new_order(self, order_id: str, req: Placement, quote: rules.Quote, now: dt.datetime) -> Order:
        paid = quote.cash_due_fen == 0
        at = iso(now)
        return Order(
            order_id=order_id,
            user_id=req.user_id,
            status="paid" if paid else "pending_payment",
            lines=[
                line.model_copy(
                    update={"partner_id": None if line.digital else self._settings.partner_routes.get(line.category)}
                )
                for line in quote.lines
            ],
            subtotal_fen=quote.subtotal_fen,
            discount_fen=quote.discount_fen,
            coupon=quote.coupon,
            points_applied=quote.points_applied,
            cash_due_fen=quote.cash_due_fen,
            shipping_address=req.body.shipping_address,
            created_at=at,
            updated_at=at,
            idempotency_key=req.idem_key,
            expires_at=None if paid else iso(now + dt.timedelta(seconds=self._settings.payment_ttl_s)),
        )

    def _replay(self, user_id: str, idem_key: str, digest: str) -> Order:
        record = self._repo.idempotency(user_id, idem_key)
        if record is None:  # cannot happen after a failed "absent" condition; answer as a race all the same
            raise Conflict("this Idempotency-Key is in use by a request still running; retry it")
        if record["request_hash"] != digest:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different body", {"order_id": record["order_id"]}
            )
        order = self._repo.get(record["order_id"])
        if order is None:
            raise NotFound(f"order {record['order_id']!r} not found", {"order_id": record["order_id"]})
        return self._with_payment(order)

    def _with_payment(self, order: Order) -> Order:
        """A pending order gets its PaymentIntent (the order id is the provider's idempotency key)."""
        if order.status != "pending_payment" or order.payment:
            return order
        intent = self._payments().create_intent(order.order_id, order.cash_due_fen)
        payment = Payment(
            provider=intent.provider,
            payment_intent_id=intent.payment_intent_id,
            client_secret=intent.client_secret,
            status=intent.status,
            amount_fen=order.cash_due_fen,
        )
        # A replay racing here got the same intent (same provider idempotency key), so ours is the stored one.
        self._repo.attach_payment(order.order_id, payment)
        return order.model_copy(update={"payment": payment})
