"""Merchants beyond the shop: the merchandisers' registry, and the merchant's own view (its staff's tokens)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.orders import idempotency_key
from chalicelib.api.routing import USER, Ctx, route

if TYPE_CHECKING:  # with the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.merchants import (
        Merchant,
        MerchantPage,
        Payment,
        PaymentCode,
        PaymentPage,
        Settlements,
        Statement,
    )

bp = Blueprint(__name__)
MERCHANTS = "chalicelib.domain.merchants"


@route(
    bp,
    "/admin/merchants",
    "POST",
    auth="merchandiser",
    body=f"{MERCHANTS}:MerchantInput",
    response=f"{MERCHANTS}:Merchant",
    status=201,
    tag="merchants",
    summary="Register a merchant that takes points (a NIO House, charging or car rental), audited",
    errors=("already_exists",),
)
def create(ctx: Ctx) -> Merchant:
    return ctx.services.merchants.create(ctx.user_id, ctx.body)


@route(
    bp,
    "/admin/merchants",
    auth="merchandiser",
    query=PageQuery,
    response=f"{MERCHANTS}:MerchantPage",
    tag="merchants",
    summary="The registered merchants, newest first",
)
def merchants(ctx: Ctx) -> MerchantPage:
    return ctx.services.merchants.page(ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/merchant/me",
    auth="merchant",
    response=f"{MERCHANTS}:Merchant",
    tag="merchants",
    summary="The merchant this staff token acts for (403 if it names none, or one not registered)",
)
def me(ctx: Ctx) -> Merchant:
    assert ctx.principal is not None
    return ctx.services.merchants.acting_for(ctx.principal)


# -- paying with points at a merchant -------------------------------------------------------------------------
PAY_IDEMPOTENCY = {
    "Idempotency-Key": "8-64 characters, unique per payment; a retry sends the same key and body and gets the "
    "same payment"
}
REFUND_IDEMPOTENCY = {
    "Idempotency-Key": "optional, 8-64 characters: a retry with the same key and body gets the first refund's "
    "answer instead of a second refund"
}


@route(
    bp,
    "/me/payment-codes",
    "POST",
    auth=USER,
    response=f"{MERCHANTS}:PaymentCode",
    status=201,
    tag="merchants",
    summary="A payment code to show at a merchant: 18 digits, valid 60 s, one live code (a new one replaces it)",
)
def payment_code(ctx: Ctx) -> PaymentCode:
    return ctx.services.payment_codes.issue(ctx.user_id)


@route(
    bp,
    "/merchant/payments",
    "POST",
    auth="merchant",
    body=f"{MERCHANTS}:PaymentInput",
    response=f"{MERCHANTS}:Payment",
    status=201,
    tag="merchants",
    headers=PAY_IDEMPOTENCY,
    errors=("code_invalid", "insufficient_points", "idempotency_key_reused"),
    summary="Take points from the shopper whose payment code this is (the code pays once)",
)
def capture(ctx: Ctx) -> Payment:
    assert ctx.principal is not None
    return ctx.services.merchant_payments.capture(ctx.principal, idempotency_key(ctx), ctx.body)


@route(
    bp,
    "/merchant/payments",
    auth="merchant",
    query=PageQuery,
    response=f"{MERCHANTS}:PaymentPage",
    tag="merchants",
    summary="This merchant's payments, newest first",
)
def payments(ctx: Ctx) -> PaymentPage:
    assert ctx.principal is not None
    return ctx.services.merchant_payments.page(ctx.principal, ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/merchant/payments/{payment_id}",
    auth="merchant",
    response=f"{MERCHANTS}:Payment",
    tag="merchants",
    errors=("not_found",),
    summary="One of this merchant's payments, with its refunds (another merchant's is 404)",
)
def payment(ctx: Ctx, payment_id: str) -> Payment:
    assert ctx.principal is not None
    return ctx.services.merchant_payments.get(ctx.principal, payment_id)


@route(
    bp,
    "/merchant/payments/{payment_id}/refunds",
    "POST",
    auth="merchant",
    body=f"{MERCHANTS}:RefundInput",
    response=f"{MERCHANTS}:Payment",
    status=201,
    tag="merchants",
    headers=REFUND_IDEMPOTENCY,
    errors=("not_found", "refund_exceeds_payment", "idempotency_key_reused"),
    summary="Give back part or all of a payment (never more than is left of it); answers the payment",
)
def refund(ctx: Ctx, payment_id: str) -> Payment:
    assert ctx.principal is not None
    key = idempotency_key(ctx) if ctx.headers.get("idempotency-key") else None
    return ctx.services.merchant_payments.refund(ctx.principal, payment_id, key, ctx.body)


@route(
    bp,
    "/merchant/statements",
    auth="merchant",
    query=f"{MERCHANTS}:StatementQuery",
    response=f"{MERCHANTS}:Statement",
    tag="merchants",
    summary="This merchant's statement per Shanghai day: points redeemed, refunded, net and fen owed (≤ 92 days)",
)
def statements(ctx: Ctx) -> Statement:
    assert ctx.principal is not None
    return ctx.services.merchant_statements.statement(ctx.principal, ctx.query)


@route(
    bp,
    "/admin/settlements",
    auth="merchandiser",
    query=f"{MERCHANTS}:StatementQuery",
    response=f"{MERCHANTS}:Settlements",
    tag="merchants",
    summary="What the bank owes each merchant per Shanghai day, and in all (≤ 92 days)",
)
def settlements(ctx: Ctx) -> Settlements:
    return ctx.services.merchant_statements.settlements(ctx.query)
