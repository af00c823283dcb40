"""The Stripe adapter against the real SDK, with its HTTP client stubbed: assert what the SDK sends."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import pytest
import stripe

from chalicelib.adapters.payments import StripePayments, sign, verify
from chalicelib.domain.errors import InvalidSignature, PaymentProviderError


class RecordingHttp(stripe.HTTPClient):
    name = "recording"

    def __init__(self, status: int = 200) -> None:
        super().__init__()
        self.calls: list[dict] = []
        self.status = status

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.calls.append(
            {"method": method, "url": url, "headers": dict(headers or {}), "form": parse_qs(post_data or "")}
        )
        if self.status != 200:
            return json.dumps({"error": {"type": "card_error", "message": "declined"}}), self.status, {}
        if "/refunds" in url:
            return json.dumps({"id": "re_123", "object": "refund", "status": "succeeded"}), 200, {}
        return (
            json.dumps(
                {
                    "id": "pi_123",
                    "object": "payment_intent",
                    "client_secret": "pi_123_secret_x",
                    "status": "requires_payment_method",
                    "amount": 9900,
                    "currency": "cny",
                }
            ),
            200,
            {},
        )


def test_create_intent_sends_fen_cny_the_order_and_its_idempotency_key():
    http = RecordingHttp()
    intent = StripePayments("sk_test_123", "http://127.0.0.1:12111", http_client=http).create_intent("o-1", 9900)
    assert (intent.provider, intent.payment_intent_id, intent.client_secret) == ("stripe", "pi_123", "pi_123_secret_x")
    call = http.calls[0]
    assert call["method"] == "post" and call["url"] == "http://127.0.0.1:12111/v1/payment_intents"
    assert call["form"]["amount"] == ["9900"] and call["form"]["currency"] == ["cny"]
    assert call["form"]["metadata[order_id]"] == ["o-1"]
    assert call["headers"]["Idempotency-Key"] == "order-o-1"
    assert call["headers"]["Authorization"] == "Bearer sk_test_123"


def test_refund_names_the_intent_amount_and_refund_key():
    http = RecordingHttp()
    assert StripePayments("sk_test_123", http_client=http).refund("pi_123", 9900, "refund-o-1") == "re_123"
    call = http.calls[0]
    assert call["url"].endswith("/v1/refunds") and call["form"]["payment_intent"] == ["pi_123"]
    assert call["form"]["amount"] == ["9900"] and call["headers"]["Idempotency-Key"] == "refund-o-1"


def test_a_refusal_from_stripe_becomes_a_clear_domain_error():
    with pytest.raises(PaymentProviderError):
        StripePayments("sk_test_123", http_client=RecordingHttp(status=402)).create_intent("o-2", 100)


def test_our_signatures_are_the_ones_stripe_checks_and_we_check_stripes():
    payload, secret = b'{"id":"evt_1","type":"payment_intent.succeeded"}', "whsec_test"
    header = sign(payload, secret)
    assert stripe.WebhookSignature.verify_header(payload.decode(), header, secret, tolerance=300)
    timestamp = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload.decode()}", secret)
    assert verify(payload, f"t={timestamp},v1={signature}", secret)["id"] == "evt_1"
    with pytest.raises(InvalidSignature):
        verify(payload, f"t={timestamp},v1={signature}", "whsec_other")
