"""Quote and place orders: prices, tiers and stock from the store; one transaction per order."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from chalicelib import logs
from chalicelib.adapters.clock import iso, new_id
from chalicelib.adapters.orders_repo import OrderRepository
from chalicelib.adapters.outbox import Outbox
from chalicelib.adapters.users_repo import new_profile
from chalicelib.domain import checkout as rules
from chalicelib.domain.errors import (Conflict, IdempotencyKeyReused, InsufficientPoints, InsufficientStock,
                                      InvalidRequest, NotAvailable, NotFound, OwnerOnly)
from chalicelib.domain.events import order_event
from chalicelib.domain.points import shanghai_day
from chalicelib.services.accounts import Accounts, Plan, Replay
from chalicelib.services.retry import LostRace, on_lost_race
from chalicelib.services.royalties import Royalties
from chalicelib.settings import Settings


log = logs.get("checkout")


def request_hash(body: rules.OrderRequest) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


class CheckoutService:
    def __init__(self, repo: OrderRepository, accounts: Accounts, outbox: Outbox, royalties: Royalties,
                 payments: Any, settings: Settings) -> None:
        self._repo = repo
        self._accounts = accounts
        self._outbox = outbox
        self._royalties = royalties
        self._payments = payments  # callable returning the gateway, built on first payment
        self._settings = settings

    def quote(self, user_id: str, body: rules.OrderRequest) -> rules.Quote:
        profile, _, skus = self._repo.checkout_reads(user_id, None, [i.sku for i in body.items])
        profile = profile or new_profile(user_id, "")
        return self._checked_quote(body, skus, profile)

    def _checked_quote(self, body: rules.OrderRequest, skus: dict[str, Any], profile: dict[str, Any]) -> rules.Quote:
        lines = _price(body, skus, profile["tier"], shanghai_day(self._accounts.clock.now()))
        quote = rules.split(lines, body.points, self._settings.min_charge_fen)
        if body.points > profile["points_available"]:
            raise InsufficientPoints(f"you have {profile['points_available']} points available, not {body.points}",
                                     {"available": profile["points_available"], "points": body.points})
        return quote

    def place(self, user_id: str, idem_key: str, body: rules.OrderRequest) -> dict[str, Any]:
        """The order (status paid, or pending_payment with a PaymentIntent); a replay returns the first one."""
        digest = request_hash(body)
        try:
            order, event = on_lost_race(lambda: self._attempt(user_id, idem_key, digest, body), "checkout")
        except Replay:
            return self._replay(user_id, idem_key, digest)
        log.info("order state changed", extra={"order_id": order["order_id"], "from_status": None,
                                               "to_status": order["status"], "user_id": user_id})
        if event:
            self._outbox.publish(event)
            self._royalties.settle_order(order)
        return self._with_payment(order)

    def _attempt(self, user_id: str, idem_key: str, digest: str, body: rules.OrderRequest) -> tuple[dict, Any]:
        stored, record, skus = self._repo.checkout_reads(user_id, idem_key, [i.sku for i in body.items])
        if record:
            raise Replay("idempotency")
        profile = stored or {**new_profile(user_id, ""), "stored": False}
        quote = self._checked_quote(body, skus, profile)
        if body.shipping_address is None and any(line.category != "hotel" for line in quote.lines):
            raise InvalidRequest("shipping_address is required unless every item is a hotel stay",
                                 {"fields": {"shipping_address": "required"}})
        now = self._accounts.clock.now()
        order = self._new_order(user_id, idem_key, body, quote, now)
        ops = [self._repo.create_op(order),
               self._repo.idempotency_op(user_id, idem_key, {"request_hash": digest, "order_id": order["order_id"],
                                                             "created_at": order["created_at"]})]
        labels = ["order", "idempotency"]
        for line in quote.lines:
            ops.append(self._repo.take_stock_op(line.sku, line.qty))
            labels.append(f"stock:{line.sku}")
        event = None
        if order["status"] == "paid":
            event = order_event(new_id("evt"), "order.paid", order["created_at"], order).model_dump(mode="json")
            ops.append(self._outbox.put_op(event))
            labels.append("outbox")
            owed, owed_labels = self._royalties.owed_ops(order, order["created_at"])
            ops, labels = ops + owed, labels + owed_labels
        plan = self._points_plan(profile, order, skus)
        plan.ops, plan.labels = ops + plan.ops, labels + plan.labels
        self._accounts.commit(profile, plan, now, _on_condition)
        return order, event

    def _new_order(self, user_id: str, idem_key: str, body: rules.OrderRequest, quote: rules.Quote,
                   now: dt.datetime) -> dict[str, Any]:
        paid = quote.cash_due_fen == 0
        at = iso(now)
        return {
            "order_id": new_id("o"), "user_id": user_id, "status": "paid" if paid else "pending_payment",
            "lines": [line.model_dump() for line in quote.lines], "subtotal_fen": quote.subtotal_fen,
            "points_applied": quote.points_applied, "cash_due_fen": quote.cash_due_fen,
            "shipping_address": body.shipping_address.model_dump() if body.shipping_address else None,
            "created_at": at, "updated_at": at, "idempotency_key": idem_key,
            "expires_at": None if paid else iso(now + dt.timedelta(seconds=self._settings.payment_ttl_s)),
        }

    def _points_plan(self, profile: dict[str, Any], order: dict[str, Any], skus: dict[str, Any]) -> Plan:
        points = order["points_applied"]
        if not points:
            owner_only = any(skus[line["sku"]].get("owner_only") for line in order["lines"])
            ops = [self._repo.owner_check_op(order["user_id"])] if owner_only else []
            return Plan(None, [], ops, ["owner"] * len(ops))
        ref = f"order:{order['order_id']}"
        if order["status"] == "paid":
            entry = {"delta": -points, "held_delta": 0, "kind": "spend", "ref": ref}
            after = {**profile, "points_available": profile["points_available"] - points}
        else:
            entry = {"delta": -points, "held_delta": points, "kind": "hold", "ref": ref}
            after = {**profile, "points_available": profile["points_available"] - points,
                     "points_held": profile["points_held"] + points}
        return Plan(after, [entry])

    def _replay(self, user_id: str, idem_key: str, digest: str) -> dict[str, Any]:
        record = self._repo.idempotency(user_id, idem_key)
        if record is None:  # cannot happen after a failed "absent" condition; answer as a race all the same
            raise Conflict("this Idempotency-Key is in use by a request still running; retry it")
        if record["request_hash"] != digest:
            raise IdempotencyKeyReused("this Idempotency-Key was used with a different body",
                                       {"order_id": record["order_id"]})
        return self._with_payment(self._repo.get(record["order_id"]))

    def _with_payment(self, order: dict[str, Any]) -> dict[str, Any]:
        """A pending order gets its PaymentIntent (the order id is the provider's idempotency key)."""
        if order["status"] != "pending_payment" or order.get("payment"):
            return order
        intent = self._payments().create_intent(order["order_id"], order["cash_due_fen"])
        payment = {"provider": intent.provider, "payment_intent_id": intent.payment_intent_id,
                   "client_secret": intent.client_secret, "status": intent.status}
        # A replay racing here got the same intent (same provider idempotency key), so ours is the stored one.
        self._repo.attach_payment(order["order_id"], payment)
        return {**order, "payment": payment}


def _price(body: rules.OrderRequest, skus: dict[str, Any], tier: str, today: str) -> list[rules.PricedLine]:
    missing = [i.sku for i in body.items if i.sku not in skus]
    if missing:
        raise NotFound(f"unknown sku {missing[0]!r}", {"skus": missing})
    lines = []
    for item in body.items:
        s = skus[item.sku]
        if s.get("status") != "active":
            raise NotAvailable(f"{s['title']!r} is not on sale", {"sku": item.sku})
        stay = (s.get("attributes") or {}).get("date", "")
        if s.get("category") == "hotel" and stay < today:
            raise NotAvailable(f"the stay on {stay} is in the past", {"sku": item.sku, "date": stay})
        if s.get("owner_only") and tier != "owner":
            raise OwnerOnly(f"{s['title']!r} is sold to verified vehicle owners only", {"sku": item.sku})
        if s["stock"] < item.qty:
            raise InsufficientStock(f"only {s['stock']} of {s['title']!r} left", {"sku": item.sku, "stock": s["stock"]})
        accepts = s.get("accepts") or {}
        lines.append(rules.PricedLine(
            sku=item.sku, product_id=s["product_id"], title=s["title"], category=s["category"], qty=item.qty,
            unit_price_fen=s["price_fen"], accepts_points=accepts.get("points", True),
            accepts_cash=accepts.get("cash", True), owner_only=bool(s.get("owner_only")),
            designer_id=s.get("designer_id"), design_id=s.get("design_id")))
    return lines


def _on_condition(label: str) -> Exception:
    if label == "idempotency":
        return Replay(label)
    # stock, owner check, order id: re-read and re-plan; the fresh read names the precise error.
    return LostRace()

