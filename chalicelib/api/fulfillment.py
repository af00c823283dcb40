"""Merchandiser order management, partner shipments, the Stripe webhook and the local payment stand-in."""

from __future__ import annotations

from typing import Any, Optional

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.routing import PUBLIC, Ctx, route
from chalicelib.domain.base import Model
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.events import PartnerOrder
from chalicelib.domain.orders import Order, OrderPage, OrderStatus, RefundRequest, ShipmentRequest

bp = Blueprint(__name__)


class AdminOrderQuery(PageQuery):
    status: Optional[OrderStatus] = None


class WebhookResult(Model):
    received: bool
    handled: bool


@route(
    bp,
    "/admin/orders",
    auth="merchandiser",
    query=AdminOrderQuery,
    response=OrderPage,
    tag="admin",
    summary="Every order, newest first, optionally by status",
)
def admin_orders(ctx: Ctx) -> OrderPage:
    return ctx.services.orders.page(ctx.query.status, None, ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/admin/orders/{order_id}/refund",
    "POST",
    auth="merchandiser",
    body=RefundRequest,
    response=Order,
    tag="admin",
    errors=("not_found", "invalid_status_transition", "payment_provider_error", "not_cancellable"),
    summary="Refund a paid, partially shipped or shipped order: cash through the provider, points back, stock "
    "back for the lines not shipped",
)
def refund(ctx: Ctx, order_id: str) -> Order:
    return ctx.services.orders.refund(ctx.user_id, order_id, ctx.body.reason)


@route(
    bp,
    "/partner/orders/{order_id}/shipments",
    "POST",
    auth="partner",
    body=ShipmentRequest,
    response=PartnerOrder,
    tag="fulfillment",
    errors=("not_found", "invalid_status_transition", "already_shipped"),
    summary="Report a parcel of your lines (all you have not shipped, or `skus`): the order is shipped once every "
    "partner has shipped, partially_shipped before; you receive order.shipped",
)
def ship(ctx: Ctx, order_id: str) -> PartnerOrder:
    return ctx.services.orders.ship(partner_of(ctx), order_id, ctx.body)


@route(
    bp,
    "/partner/orders/{order_id}",
    auth="partner",
    response=PartnerOrder,
    tag="fulfillment",
    errors=("not_found",),
    summary="One order as your events show it: your lines, your parcels, the address and "
    "the order's status (to catch up on an event you missed)",
)
def partner_order(ctx: Ctx, order_id: str) -> PartnerOrder:
    return ctx.services.orders.partner_order(partner_of(ctx), order_id)


def partner_of(ctx: Ctx) -> str:
    assert ctx.principal is not None
    if not ctx.principal.partner_id:
        raise Forbidden("this partner token has no partner_id claim: ask the shop for a token naming your partner id")
    return ctx.principal.partner_id


@route(
    bp,
    "/webhooks/stripe",
    "POST",
    auth=PUBLIC,
    response=WebhookResult,
    tag="payments",
    errors=("invalid_signature",),
    summary="Stripe events, verified with the Stripe-Signature header",
)
def stripe_webhook(ctx: Ctx) -> Any:
    return ctx.services.payment_events.handle(ctx.raw_body, ctx.headers.get("stripe-signature"))


@route(
    bp,
    "/dev/payments/{payment_intent_id}/succeed",
    "POST",
    auth=PUBLIC,
    response=WebhookResult,
    tag="dev",
    errors=("not_found",),
    summary="Stage local only: pay a local PaymentIntent through the webhook code",
)
def dev_succeed(ctx: Ctx, payment_intent_id: str) -> Any:
    return _simulate(ctx, payment_intent_id, "succeed")


@route(
    bp,
    "/dev/payments/{payment_intent_id}/fail",
    "POST",
    auth=PUBLIC,
    response=WebhookResult,
    tag="dev",
    errors=("not_found",),
    summary="Stage local only: a declined attempt on a local PaymentIntent (the order stays pending)",
)
def dev_fail(ctx: Ctx, payment_intent_id: str) -> Any:
    return _simulate(ctx, payment_intent_id, "fail")


@route(
    bp,
    "/dev/payments/{payment_intent_id}/cancel",
    "POST",
    auth=PUBLIC,
    response=WebhookResult,
    tag="dev",
    errors=("not_found",),
    summary="Stage local only: cancel a local PaymentIntent at the provider (the order "
    "can no longer be paid: payment_failed)",
)
def dev_cancel(ctx: Ctx, payment_intent_id: str) -> Any:
    return _simulate(ctx, payment_intent_id, "cancel")


def _simulate(ctx: Ctx, payment_intent_id: str, outcome: str) -> Any:
    if not ctx.services.settings.uses_local_payments:
        raise NotFound("not found")
    result = ctx.services.payment_events.simulate(payment_intent_id, outcome)
    return {"received": result["received"], "handled": result["handled"]}
