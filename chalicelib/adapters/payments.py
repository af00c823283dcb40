"""Payment gateways: Stripe (the official SDK, imported only when a payment is made) and `local`."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any, Optional, Protocol

from chalicelib.adapters import strict_json
from chalicelib.domain.errors import InvalidSignature, PaymentProviderError

CURRENCY = "cny"
SIGNATURE_TOLERANCE_S = 300


@dataclass(frozen=True)
class Intent:
    provider: str
    payment_intent_id: str
    client_secret: Optional[str]
    status: str


class PaymentGateway(Protocol):
    provider: str

    def create_intent(self, order_id: str, amount_fen: int) -> Intent: ...

    def refund(self, payment_intent_id: str, amount_fen: int, refund_key: str) -> str: ...

    def cancel_intent(self, payment_intent_id: str) -> None: ...


class LocalPayments:
    """Stage local without STRIPE_API_KEY: intents are named after the order, nothing leaves the machine."""

    provider = "local"

    def create_intent(self, order_id: str, amount_fen: int) -> Intent:
        intent_id = f"pi_local_{order_id}"
        return Intent(self.provider, intent_id, f"{intent_id}_secret", "requires_payment_method")

    def refund(self, payment_intent_id: str, amount_fen: int, refund_key: str) -> str:
        return f"re_local_{hashlib.sha256(refund_key.encode()).hexdigest()[:16]}"

    def cancel_intent(self, payment_intent_id: str) -> None:
        return None  # nothing can be charged on a local intent after this; the dev endpoint still simulates it


class StripePayments:
    provider = "stripe"

    def __init__(self, api_key: str, api_base: Optional[str] = None, http_client: Any = None) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._http_client = http_client
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import stripe

            kwargs: dict[str, Any] = {"max_network_retries": 2}
            if self._api_base:
                kwargs["base_addresses"] = {"api": self._api_base}
            if self._http_client is not None:
                kwargs["http_client"] = self._http_client
            self._client = stripe.StripeClient(self._api_key, **kwargs)
        return self._client

    def create_intent(self, order_id: str, amount_fen: int) -> Intent:
        import stripe

        try:
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": amount_fen,
                    "currency": CURRENCY,
                    "metadata": {"order_id": order_id},
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": f"order-{order_id}"},
            )
        except stripe.StripeError as exc:
            raise PaymentProviderError(
                f"the payment provider refused the payment: {exc.user_message or exc}", {"order_id": order_id}
            ) from None
        return Intent(self.provider, intent.id, intent.client_secret, intent.status)

    def refund(self, payment_intent_id: str, amount_fen: int, refund_key: str) -> str:
        import stripe

        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": payment_intent_id, "amount": amount_fen},
                options={"idempotency_key": refund_key},
            )
        except stripe.StripeError as exc:
            raise PaymentProviderError(
                f"the payment provider refused the refund: {exc.user_message or exc}",
                {"payment_intent_id": payment_intent_id},
            ) from None
        return refund.id

    def cancel_intent(self, payment_intent_id: str) -> None:
        """Cancel a PaymentIntent that may no longer be paid (idempotent: cancelling twice is one cancel)."""
        import stripe

        try:
            self.client.v1.payment_intents.cancel(
                payment_intent_id, options={"idempotency_key": f"cancel-{payment_intent_id}"}
            )
        except stripe.StripeError as exc:
            raise PaymentProviderError(
                f"the payment provider did not cancel the payment: {exc.user_message or exc}",
                {"payment_intent_id": payment_intent_id},
            ) from None


def sign(payload: bytes, secret: str, timestamp: Optional[int] = None) -> str:
    """A `Stripe-Signature` header for `payload` (Stripe's v1 scheme); the local dev endpoint uses it."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(payload: bytes, header: Optional[str], secret: str, now: Optional[int] = None) -> dict[str, Any]:
    """The event in `payload` if `header` signs it with `secret` within the tolerance; else InvalidSignature."""
    bad = InvalidSignature("the Stripe-Signature header is missing, stale or does not match")
    if not header:
        raise bad
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    timestamps = [v for k, v in parts if k == "t"]
    signatures = [v for k, v in parts if k == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        raise bad
    t = int(timestamps[0])
    if abs((int(time.time()) if now is None else now) - t) > SIGNATURE_TOLERANCE_S:
        raise bad
    expected = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise bad
    try:
        event = strict_json.loads(payload)  # no NaN, no name twice: Stripe sends neither
    except ValueError:
        raise bad from None
    if not isinstance(event, dict):
        raise bad
    return event
