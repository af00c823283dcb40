"""Coupons: merchandisers define templates and grant coupons; shoppers hold them, buy them with points (a coupon
product, through checkout) and use one per order. Every coupon issued comes off the template's budget, spread over
shard items so a coupon handed to a crowd does not serialise on one item, and counts against the user's limit."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.coupons_repo import CouponRepository
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import LostRace, Replay, Transaction
from chalicelib.domain import coupons as rules
from chalicelib.domain.catalog import spread
from chalicelib.domain.checkout import allocate, home_shard
from chalicelib.domain.errors import AlreadyExists, BudgetExhausted, Conflict, CouponLimit, NotCancellable, NotFound
from chalicelib.domain.transitions import Transition
from chalicelib.services.retry import on_lost_race


def new_coupon_id(at: dt.datetime) -> str:
    """Time first, so a user's coupons list newest first."""
    return f"uc-{at.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:12]}"


class CouponService:
    def __init__(self, repo: CouponRepository, audit: AuditRepository, cursors: CursorCodec, clock: Clock) -> None:
        self._repo = repo
        self._audit = audit
        self._cursors = cursors
        self._clock = clock

    # -- templates ---------------------------------------------------------------------------------
    def create(self, actor: str, body: rules.CouponInput) -> rules.Coupon:
        now = iso(self._clock.now())
        shards = rules.budget_shards(body.budget_count)
        template = {**body.model_dump(), "budget_shards": shards, "created_at": now, "created_by": actor}
        tx = self._repo.begin()
        self._repo.add(
            tx,
            template,
            spread(body.budget_count, shards),
            on_fail=AlreadyExists(f"coupon {body.coupon_id!r} already exists", {"coupon_id": body.coupon_id}),
        )
        self._audit.record(tx, actor, "coupon.create", body.coupon_id, None, template, now)
        tx.commit()
        return self._view(template, body.budget_count)

    def get(self, coupon_id: str) -> rules.Coupon:
        template = self.template(coupon_id)
        return self._view(template, self._left(template))

    def page(self, limit: int, cursor: Optional[str]) -> rules.CouponPage:
        items, last = self._repo.templates(limit, self._cursors.decode(cursor, "coupons"))
        return rules.CouponPage(
            items=[self._view(t, self._left(t)) for t in items], next_cursor=self._cursors.encode(last, "coupons")
        )

    def template(self, coupon_id: str) -> dict[str, Any]:
        found = self._repo.template(coupon_id)
        if found is None:
            raise NotFound(f"coupon {coupon_id!r} not found", {"coupon_id": coupon_id})
        return found

    def _left(self, template: dict[str, Any]) -> int:
        return sum(self._repo.budget(template["coupon_id"], template["budget_shards"]).values())

    @staticmethod
    def _view(template: dict[str, Any], left: int) -> rules.Coupon:
        return rules.Coupon.model_validate({**template, "issued": template["budget_count"] - left, "left": left})

    # -- issuing -----------------------------------------------------------------------------------
    def grant(self, actor: str, coupon_id: str, body: rules.CouponGrantInput) -> rules.UserCoupon:
        """One coupon to a user; the same ref returns the first grant (for the same user) and never issues two."""
        template = self.template(coupon_id)
        tries = iter(range(1_000))

        def attempt() -> dict[str, Any]:
            n = next(tries)
            if n and self._repo.grant(coupon_id, body.ref):  # a grant with this ref won the race: it is the answer
                raise Replay()
            now = self._clock.now()
            at = iso(now)
            coupon = rules.issued_coupon(template, new_coupon_id(now), body.user_id, "grant", body.ref, now, at)
            record = {
                "coupon_id": coupon_id,
                "ref": body.ref,
                "user_id": body.user_id,
                "coupon": coupon["coupon"],
                "granted_at": at,
                "granted_by": actor,
            }
            tx = self._repo.begin()
            self._repo.record_grant(tx, coupon_id, body.ref, record, on_replay=Replay)  # first: a replay wins
            self.issue(tx, template, body.user_id, [coupon], self.plan(template, body.user_id, 1, n))
            self._audit.record(tx, actor, "coupon.grant", coupon_id, None, record, at)
            tx.commit()
            return coupon

        try:
            return self.view(on_lost_race(attempt, "this coupon"))
        except Replay:
            record = self._repo.grant(coupon_id, body.ref)
            assert record is not None  # grant records are never deleted
            if record["user_id"] != body.user_id:
                raise Conflict(
                    f"ref {body.ref!r} granted this coupon to another user already",
                    {"ref": body.ref, "coupon_id": coupon_id},
                ) from None
            first = self._repo.user_coupon(record["user_id"], record["coupon"])
            assert first is not None
            return self.view(first)

    def plan(self, template: dict[str, Any], user_id: str, count: int, attempt: int) -> list[list[int]]:
        """Which budget shards `count` coupons come from: the user's home shard, unread, at first; after a lost
        race from what the shards have left, or 409 `budget_exhausted` when they have too little together."""
        cid, shards = template["coupon_id"], template["budget_shards"]
        if count > template["per_user_limit"]:
            raise self._over_limit(template, user_id)
        home = home_shard(user_id, f"coupon:{cid}", shards)
        if attempt == 0:
            return [[home, count]]
        left = self._repo.budget(cid, shards)
        found = allocate(left, count, home)
        if found is None:
            total = sum(left.values())
            raise BudgetExhausted(
                f"coupon {cid!r} has {total} left to issue, not {count}", {"coupon_id": cid, "left": total}
            )
        return found

    def issue(
        self,
        tx: Transaction,
        template: dict[str, Any],
        user_id: str,
        coupons: list[dict[str, Any]],
        shards: list[list[int]],
    ) -> None:
        """Write `coupons` for the user in `tx`, off the budget `shards` (see `plan`), within the user's limit."""
        self._repo.issue(tx, template, user_id, coupons, shards, on_limit=lambda: self._over_limit(template, user_id))

    def _over_limit(self, template: dict[str, Any], user_id: str) -> CouponLimit:
        cid, limit = template["coupon_id"], template["per_user_limit"]
        received = self._repo.received(cid, user_id)
        return CouponLimit(
            f"at most {limit} of coupon {cid!r} per person; you have had {received}",
            {"coupon_id": cid, "per_user_limit": limit, "received": received},
        )

    def check_room(self, coupon_id: str, user_id: str, count: int) -> None:
        """What an order would meet issuing `count` coupons to the user (a quote's reads, no writes)."""
        template = self.template(coupon_id)
        if self._repo.received(coupon_id, user_id) + count > template["per_user_limit"]:
            raise self._over_limit(template, user_id)
        left = self._left(template)
        if left < count:
            raise BudgetExhausted(
                f"coupon {coupon_id!r} has {left} left to issue, not {count}", {"coupon_id": coupon_id, "left": left}
            )

    def use(self, tx: Transaction, user_id: str, coupon: str, order_id: str, at: str) -> None:
        self._repo.use(tx, user_id, coupon, order_id, at)

    # -- a shopper's coupons -----------------------------------------------------------------------
    def mine(self, user_id: str, limit: int, cursor: Optional[str]) -> rules.UserCouponPage:
        scope = f"my-coupons|{user_id}"
        items, last = self._repo.page(user_id, limit, self._cursors.decode(cursor, scope))
        return rules.UserCouponPage(items=[self.view(c) for c in items], next_cursor=self._cursors.encode(last, scope))

    def view(self, coupon: dict[str, Any]) -> rules.UserCoupon:
        status = rules.status_of(coupon, iso(self._clock.now()))
        return rules.UserCoupon.model_validate(
            {
                **coupon,
                "status": status,
                "order_id": coupon.get("order_id") if status == "used" else None,
                "bought_with": coupon["ref"] if coupon["source"] == "purchase" else None,
            }
        )


class CouponFollower:
    """What an order's end (expiry, cancel, failed payment, refund) does to coupons, in the order's transaction:
    the coupon it used is free again (or taken back, if the order that bought it was refunded meanwhile); the
    coupons it bought are taken back. The buyer cancels such an order only while every coupon it bought is unused
    and unexpired (else they would get a coupon's worth for nothing); a merchandiser's refund takes back those
    still unused, and marks those in use by another order, which take them back when they let them go (a refunded
    coupon is never usable again)."""

    def __init__(self, repo: CouponRepository) -> None:
        self._repo = repo

    def follow(self, tx: Transaction, t: Transition) -> None:
        if not t.rule.releases_purchases or t.before is None:
            return
        order = t.after
        if order.coupon:
            used = self._repo.user_coupon(order.user_id, order.coupon) or {}
            if used.get("purchase_refunded_at") and used.get("order_id") == order.order_id:
                self._repo.revoke_freed(tx, used, order.order_id, order.updated_at)
            else:  # conditioned on no mark: a refund marking it meanwhile makes this a lost race, re-read
                self._repo.give_back(tx, order.user_id, order.coupon, order.order_id)
        if not order.coupons:
            return
        held = {c["coupon"]: c for c in self._repo.user_coupons(order.user_id, order.coupons)}
        unused = {c for c, item in held.items() if not item.get("order_id") and not item.get("revoked_at")}
        if order.status == "cancelled":
            for c in order.coupons:
                item = held.get(c, {})
                if item.get("order_id"):
                    raise NotCancellable(
                        f"coupon {c} that this order bought is in use by order {item['order_id']}: "
                        "cancel that order first",
                        {"status": t.before.status, "coupon": c, "order_id": item["order_id"]},
                    )
                if item.get("expires_at", "") <= order.updated_at:
                    raise NotCancellable(
                        f"coupon {c} that this order bought has expired, so the order is past cancelling",
                        {"status": t.before.status, "coupon": c},
                    )
        for cid, shards in order.coupon_budget.items():
            back = [c for c in order.coupons if c in unused and held[c]["coupon_id"] == cid]
            if back:
                self._repo.revoke(
                    tx, cid, order.user_id, back, first_units(shards, len(back)), order.updated_at, on_used=LostRace
                )
            busy = [
                c
                for c in order.coupons
                if held.get(c, {}).get("coupon_id") == cid
                and held[c].get("order_id")
                and not held[c].get("revoked_at")
                and not held[c].get("purchase_refunded_at")
            ]
            units = [shard for shard, n in shards for _ in range(n)][len(back) :]  # the units not given back yet
            for coupon, shard in zip(busy, units, strict=False):
                self._repo.mark_purchase_refunded(tx, order.user_id, coupon, shard, order.updated_at)


def first_units(shards: list[list[int]], count: int) -> list[list[int]]:
    """`count` units of [[shard, units], ...], taken from the first shards on."""
    taken: list[list[int]] = []
    for shard, units in shards:
        if count <= 0:
            break
        taken.append([shard, min(units, count)])
        count -= taken[-1][1]
    return taken
