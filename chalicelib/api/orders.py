"""Shopper checkout: quotes, orders, cancel; and the order lookups."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.routing import USER, Ctx, route
from chalicelib.domain.checkout import OrderRequest, Quote
from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.orders import Order, OrderPage

bp = Blueprint(__name__)
IDEMPOTENCY = {"Idempotency-Key": "8-64 characters, unique per order attempt; a retry sends the same key"}
CHECKOUT_ERRORS = (
    "not_found",
    "owner_only",
    "insufficient_stock",
    "not_available",
    "invalid_points_split",
    "insufficient_points",
    "cash_below_minimum",
    "coupon_not_applicable",
    "coupon_limit",
    "budget_exhausted",
    "not_yet_on_sale",
    "purchase_limit",
)


@route(
    bp,
    "/orders/quote",
    "POST",
    auth=USER,
    body=OrderRequest,
    response=Quote,
    tag="checkout",
    summary="Price a basket and a points/cash split without buying anything",
    errors=CHECKOUT_ERRORS,
)
def quote(ctx: Ctx) -> Quote:
    return ctx.services.checkout.quote(ctx.user_id, ctx.body)


@route(
    bp,
    "/orders",
    "POST",
    auth=USER,
    body=OrderRequest,
    response=Order,
    status=201,
    tag="checkout",
    headers=IDEMPOTENCY,
    errors=CHECKOUT_ERRORS
    + ("idempotency_key_reused", "payment_provider_error", "too_many_pending_orders", "price_changed"),
    summary="Place an order: paid at once when points cover it, else pending_payment with a PaymentIntent",
)
def place(ctx: Ctx) -> Order:
    return ctx.services.checkout.place(ctx.user_id, idempotency_key(ctx), ctx.body)


def idempotency_key(ctx: Ctx) -> str:
    key = ctx.headers.get("idempotency-key") or ""
    if not 8 <= len(key) <= 64 or not key.isprintable():
        raise InvalidRequest(
            "the Idempotency-Key header is required (8-64 characters)",
            {"fields": {"Idempotency-Key": "required, 8-64 characters"}},
        )
    return key


@route(
    bp,
    "/orders/{order_id}",
    auth=USER,
    response=Order,
    tag="checkout",
    errors=("not_found",),
    summary="One of your orders (merchandisers: any order)",
)
def get_order(ctx: Ctx, order_id: str) -> Order:
    return ctx.services.orders.get(order_id, None if ctx.is_merchandiser else ctx.user_id)


@route(
    bp,
    "/me/orders",
    auth=USER,
    query=PageQuery,
    response=OrderPage,
    tag="checkout",
    summary="Your orders, newest first",
)
def my_orders(ctx: Ctx) -> OrderPage:
    return ctx.services.orders.page(None, ctx.user_id, ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/orders/{order_id}/cancel",
    "POST",
    auth=USER,
    response=Order,
    tag="checkout",
    errors=("not_found", "not_cancellable", "payment_provider_error"),
    summary="Cancel: a pending order releases its holds; a paid one is refunded (cash and points)",
)
def cancel(ctx: Ctx, order_id: str) -> Order:
    return ctx.services.orders.cancel(ctx.user_id, order_id)
