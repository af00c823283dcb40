"""Quote and place orders: prices, tiers and stock from the store; one transaction per order."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace
from typing import Any, Callable, Optional

from chalicelib import logs
from chalicelib.adapters.clock import Clock, iso, new_id
from chalicelib.adapters.dynamo import LostRace, Replay, Transaction
from chalicelib.adapters.orders_repo import OrderRepository
from chalicelib.adapters.outbox import Outbox
from chalicelib.adapters.payments import PaymentGateway
from chalicelib.adapters.users_repo import new_profile
from chalicelib.adapters.vouchers_repo import VoucherRepository
from chalicelib.domain import checkout as rules
from chalicelib.domain import coupons
from chalicelib.domain.errors import (
    Conflict,
    IdempotencyKeyReused,
    InsufficientPoints,
    InsufficientStock,
    InvalidRequest,
    NotFound,
    PurchaseLimit,
)
from chalicelib.domain.orders import Order, Payment, Voucher
from chalicelib.domain.points import Profile, shanghai_day
from chalicelib.domain.transitions import Transition, check_pending_limit, placing
from chalicelib.services.accounts import Accounts
from chalicelib.services.coupons import CouponService, new_coupon_id
from chalicelib.services.retry import on_lost_race
from chalicelib.services.royalties import Royalties
from chalicelib.settings import Settings

log = logs.get("checkout")
Follower = Callable[[Transaction, Order], None]
ADDED_LATER = ("expected", "coupon")  # optional OrderRequest fields newer than stored idempotency records


def request_hash(body: rules.OrderRequest) -> str:
    """Optional fields added after the first version are left out when absent, so a retry of a body sent before
    they existed hashes as it did then (and still replays its order)."""
    absent = {name for name in ADDED_LATER if getattr(body, name) is None}
    return hashlib.sha256(json.dumps(body.model_dump(mode="json", exclude=absent), sort_keys=True).encode()).hexdigest()


def coupon_units(quote: rules.Quote) -> dict[str, int]:
    """{coupon template: coupons the order's coupon lines buy}."""
    count: dict[str, int] = {}
    for line in quote.lines:
        if line.coupon_id:
            count[line.coupon_id] = count.get(line.coupon_id, 0) + line.qty
    return count


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
        vouchers: VoucherRepository,
        coupons: CouponService,
    ) -> None:
        self._repo = repo
        self._coupons = coupons
        self._vouchers = vouchers
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
        skus = {
            sku: replace(offer, stock=sum(self._repo.shard_stock(sku, offer.stock_shards).values()), stock_shards=1)
            if offer.stock_shards > 1
            else offer
            for sku, offer in reads.skus.items()
        }
        quote = self._checked_quote(body, skus, reads.profile or new_profile(user_id, ""), tickets, coupon=reads.coupon)
        for product_id, (qty, limit) in rules.limited_units(quote.lines, skus).items():
            if self._repo.purchases(product_id, user_id) + qty > limit:
                raise self._limit_reached(user_id, product_id, limit)
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
        now = self._clock.now()
        lines = rules.price(body.items, skus, profile.tier, shanghai_day(now), iso(now), tickets, reserved)
        discounts = None
        if body.coupon:
            if coupon is None:  # another user's coupon does not exist for this one
                raise NotFound(
                    f"you hold no coupon {body.coupon!r}",
                    {"fields": {"coupon": "not one of your coupons"}, "coupon": body.coupon},
                )
            discounts = coupons.discount(coupon, lines, iso(now))
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
        shards: Optional[dict[str, list[list[int]]]] = None,
    ) -> Order:
        """The order (status paid, or pending_payment with a PaymentIntent); a replay returns the first one.
        `follow` adds what else the order's transaction must write (an event registration: its ticket lines are
        sold only then); with `reserved`, the stock was set aside already and `follow` must claim it."""
        digest = request_hash(body)
        tries = iter(range(1_000))
        try:
            t = on_lost_race(
                lambda: self._attempt(user_id, idem_key, digest, body, follow, reserved, shards, next(tries)),
                "checkout",
            )
        except Replay:
            return self._replay(user_id, idem_key, digest)
        log.info(
            "order state changed",
            extra={"order_id": t.after.order_id, "from_status": None, "to_status": t.after.status, "user_id": user_id},
        )
        if t.rule.royalties:  # partners hear of it from the table's stream; royalties are shown as pending now
            self._royalties.settle_order(t.after)
        return self._with_payment(t.after)

    def _attempt(
        self,
        user_id: str,
        idem_key: str,
        digest: str,
        body: rules.OrderRequest,
        follow: Optional[Follower],
        reserved: bool,
        held: Optional[dict[str, list[list[int]]]],
        attempt: int,
    ) -> Transition:
        reads = self._repo.checkout_reads(user_id, idem_key, [i.sku for i in body.items], body.coupon)
        if reads.idempotency:
            raise Replay()
        if reads.coupon and reads.coupon.get("order_id") and self._repo.idempotency(user_id, idem_key):
            raise Replay()  # this key's first request used the coupon, and committed while the batch read
        profile = reads.profile or replace(new_profile(user_id, ""), stored=False)
        quote = self._checked_quote(
            body, reads.skus, profile, tickets=follow is not None, reserved=reserved, coupon=reads.coupon
        )
        if body.shipping_address is None and rules.needs_address(quote.lines):
            raise InvalidRequest(
                "shipping_address is required unless every item is a hotel stay",
                {"fields": {"shipping_address": "required"}},
            )
        shards = held if reserved else self._shards(user_id, quote, reads.skus, attempt)
        limited = rules.limited_units(quote.lines, reads.skus)
        codes = self._codes(quote, reads.skus, attempt)
        now, order_id = self._clock.now(), new_id("o")
        bought = self._bought_coupons(user_id, order_id, quote, now, attempt)
        t = placing(
            self._new_order(order_id, user_id, idem_key, body, quote, now).model_copy(
                update={
                    "stock_shards": shards or {},
                    "purchase_limits": {p: q for p, (q, _) in limited.items()},
                    "vouchers": [Voucher(sku=sku, code=code) for sku, code in codes],
                    "coupon_budget": {cid: budget for cid, (_, _, budget) in bought.items()},
                    "coupons": [c["coupon"] for _, issued, _ in bought.values() for c in issued],
                }
            )
        )
        check_pending_limit(profile, t, self._settings.max_pending_orders)
        tx = self._repo.begin()
        self._repo.add(tx, t.after, digest, on_replay=Replay)
        if reserved:
            self._repo.check_on_sale(tx, t.stock)
        else:
            self._repo.take_stock(tx, t.stock, reads.skus, shards)
        for sku, code in codes:  # each code to this order only (a lost race picks others)
            self._vouchers.sell(tx, sku, code, t.after.order_id, t.after.created_at)
        if body.coupon:  # to this order only, unused and unexpired when it commits (a lost race re-reads it)
            self._coupons.use(tx, user_id, body.coupon, t.after.order_id, t.after.created_at)
        for template, issued, budget in bought.values():
            self._coupons.issue(tx, template, user_id, issued, budget)
        self._repo.count_purchases(
            tx,
            user_id,
            limited,
            on_fail=lambda product_id: lambda: self._limit_reached(user_id, product_id, limited[product_id][1]),
        )
        self._outbox.add(tx, t.events)
        self._royalties.follow(tx, t)
        if follow is not None:
            follow(tx, t.after)
        if t.moves_account:  # the profile's compare-and-swap also guards the pending-orders limit
            self._accounts.record(tx, profile, profile.posted(t.ledger, t.rule.pending), t.ledger, t.after.created_at)
        elif any(reads.skus[line.sku].owner_only for line in t.after.lines):
            self._accounts.repo.require_owner(tx, user_id, on_fail=LostRace)  # the re-read names the error
        tx.commit()
        return t

    def _bought_coupons(
        self, user_id: str, order_id: str, quote: rules.Quote, now: dt.datetime, attempt: int
    ) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]], list[list[int]]]]:
        """For each coupon template the order's coupon lines buy: the template, the coupons issued to the buyer
        and the budget shards they come from."""
        bought: dict[str, tuple[dict[str, Any], list[dict[str, Any]], list[list[int]]]] = {}
        for cid, qty in coupon_units(quote).items():
            template = self._coupons.template(cid)
            issued = [
                coupons.issued_coupon(template, new_coupon_id(now), user_id, "purchase", order_id, now, iso(now))
                for _ in range(qty)
            ]
            bought[cid] = (template, issued, self._coupons.plan(template, user_id, qty, attempt))
        return bought

    def _codes(self, quote: rules.Quote, skus: dict[str, rules.SkuOffer], attempt: int) -> list[tuple[str, str]]:
        """(sku, code) for every unit of the voucher lines, picked among the unsold ones; too few listed (the index
        lags behind the stock the order takes) is a lost race, re-planned, and after a few tries the stock it is."""
        picked: list[tuple[str, str]] = []
        for line in quote.lines:
            if skus[line.sku].kind == "voucher":
                codes = self._vouchers.unsold(line.sku, line.qty)
                if len(codes) < line.qty and attempt >= 5:
                    raise InsufficientStock(
                        f"only {len(codes)} of {line.title!r} left", {"sku": line.sku, "stock": len(codes)}
                    )
                if len(codes) < line.qty:
                    raise LostRace()
                picked += [(line.sku, code) for code in codes]
        return picked

    def _shards(
        self, user_id: str, quote: rules.Quote, skus: dict[str, rules.SkuOffer], attempt: int
    ) -> dict[str, list[list[int]]]:
        """For each sharded SKU, the shards its units come from: first the buyer's home shard, unread; after a
        lost race, from the shards' actual stock (one Query each), or the precise 409 when they are all short."""
        taken: dict[str, list[list[int]]] = {}
        for line in quote.lines:
            offer = skus[line.sku]
            if offer.stock_shards <= 1:
                continue
            home = rules.home_shard(user_id, line.sku, offer.stock_shards)
            if attempt == 0:
                taken[line.sku] = [[home, line.qty]]
                continue
            stock = self._repo.shard_stock(line.sku, offer.stock_shards)
            found = rules.allocate(stock, line.qty, home)
            if found is None:
                total = sum(stock.values())
                raise InsufficientStock(f"only {total} of {offer.title!r} left", {"sku": line.sku, "stock": total})
            taken[line.sku] = found
        return taken

    def _limit_reached(self, user_id: str, product_id: str, limit: int) -> PurchaseLimit:
        bought = self._repo.purchases(product_id, user_id)
        return PurchaseLimit(
            f"at most {limit} of this product per person; your orders hold {bought}",
            {"product_id": product_id, "limit": limit, "bought": bought},
        )

    def _new_order(
        self, order_id: str, user_id: str, idem_key: str, body: rules.OrderRequest, quote: rules.Quote, now: dt.datetime
    ) -> Order:
        paid = quote.cash_due_fen == 0
        at = iso(now)
        return Order(
            order_id=order_id,
            user_id=user_id,
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
            shipping_address=body.shipping_address,
            created_at=at,
            updated_at=at,
            idempotency_key=idem_key,
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
