"""Merchants beyond the shop: the merchandisers' registry, and the merchant's own view (its staff's tokens)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.routing import Ctx, route

if TYPE_CHECKING:  # with the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.merchants import Merchant, MerchantPage

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
