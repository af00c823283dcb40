"""Stripe webhook events (and the local stand-in that signs the same events) driving orders."""

from __future__ import annotations

import json
import time
from typing import Any, Optional

from chalicelib import logs
from chalicelib.adapters.clock import new_id
from chalicelib.adapters.orders_repo import OrderRepository
from chalicelib.adapters.payments import sign, verify
from chalicelib.domain.errors import InvalidTransition, NotFound
from chalicelib.domain.orders import Order, Payment
from chalicelib.domain.transitions import payment_verdict
from chalicelib.services.orders import OrderService

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
CANCELED = "payment_intent.canceled"
HANDLED = (SUCCEEDED, FAILED, CANCELED)
LOCAL_PREFIX = "pi_local_"
log = logs.get("payments")


class PaymentEvents:
    def __init__(self, orders: OrderService, repo: OrderRepository, webhook_secret: str) -> None:
        self._orders = orders
        self._repo = repo
        self._secret = webhook_secret

    def handle(self, payload: bytes, signature: Any) -> dict[str, Any]:
        """Verify, then apply; duplicates and out-of-order events change nothing twice."""
        event = verify(payload, signature, self._secret)
        event_type = event.get("type")
        intent = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
        if (
            event_type not in HANDLED
            or not isinstance(intent, dict)
            or not isinstance(intent.get("id"), str)
            or not isinstance(intent.get("metadata") or {}, dict)
        ):
            return {"received": True, "handled": False}
        order = self._order_of(intent)
        if order is None:
            return {"received": True, "handled": False}
        if event_type == SUCCEEDED:
            return {"received": True, "handled": self._succeeded(order, intent)}
        if (
            event_type == CANCELED
            and order.status == "pending_payment"
            and (order.payment is None or order.payment.payment_intent_id == intent["id"])
        ):
            self._orders.move(order.order_id, "payment_failed")  # the intent can no longer be paid
        # payment_failed: not final at the provider (the shopper may try another card); the order waits for expiry.
        return {"received": True, "handled": True}

    def _succeeded(self, order: Order, intent: dict[str, Any]) -> bool:
        verdict = payment_verdict(order, intent["id"], intent.get("amount"), intent.get("currency"))
        if verdict == "pay":
            try:
                self._orders.move(
                    order.order_id,
                    "paid",
                    payment=Payment(
                        provider=self._orders.provider,
                        payment_intent_id=intent["id"],
                        client_secret=None,
                        status="succeeded",
                        amount_fen=intent["amount"],
                    ),
                )
                return True
            except InvalidTransition:  # cancelled or expired since it was read: decide again on what it is now
                order = self._orders.get(order.order_id)
                verdict = payment_verdict(order, intent["id"], intent.get("amount"), intent.get("currency"))
        if verdict == "refund":
            log.warning(
                "a payment the order will not keep is refunded",
                extra={"order_id": order.order_id, "payment_intent_id": intent["id"]},
            )
            self._orders.refund_late_payment(order, intent["id"], intent["amount"])
        elif verdict == "ignore":
            log.warning(
                "a payment event that does not match its order was ignored",
                extra={"order_id": order.order_id, "payment_intent_id": intent["id"]},
            )
        return verdict != "ignore"

    def _order_of(self, intent: dict[str, Any]) -> Optional[Order]:
        order_id = str((intent.get("metadata") or {}).get("order_id") or "")
        return self._repo.get(order_id) if order_id and len(order_id) <= 64 else None

    def simulate(self, payment_intent_id: str, outcome: str) -> dict[str, Any]:
        """Stage local: build the event Stripe would send, sign it, and hand it to the webhook code."""
        order_id = payment_intent_id[len(LOCAL_PREFIX) :] if payment_intent_id.startswith(LOCAL_PREFIX) else ""
        order = self._repo.get(order_id) if order_id else None
        if order is None:
            raise NotFound(f"no local payment {payment_intent_id!r}", {"payment_intent_id": payment_intent_id})
        event = {
            "id": new_id("evt_local"),
            "object": "event",
            "created": int(time.time()),
            "type": {"succeed": SUCCEEDED, "fail": FAILED, "cancel": CANCELED}[outcome],
            "data": {
                "object": {
                    "id": payment_intent_id,
                    "object": "payment_intent",
                    "amount": order.cash_due_fen,
                    "currency": "cny",
                    "metadata": {"order_id": order_id},
                }
            },
        }
        payload = json.dumps(event).encode()
        return {**self.handle(payload, sign(payload, self._secret)), "event": event}
