"""Coupons: merchandisers define and grant them; shoppers list theirs and send one with a quote or an order."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.routing import USER, Ctx, route
from chalicelib.domain.coupons import Coupon, CouponGrantInput, CouponInput, CouponPage, UserCoupon, UserCouponPage

bp = Blueprint(__name__)
MERCH = "merchandiser"


@route(
    bp,
    "/admin/coupons",
    "POST",
    auth=MERCH,
    body=CouponInput,
    response=Coupon,
    status=201,
    tag="coupons",
    errors=("already_exists",),
    summary="Create a coupon template: amount or percent off, minimum, categories, validity, budget and per-user limit",
)
def create_coupon(ctx: Ctx) -> Coupon:
    return ctx.services.coupons.create(ctx.user_id, ctx.body)


@route(
    bp,
    "/admin/coupons",
    auth=MERCH,
    query=PageQuery,
    response=CouponPage,
    tag="coupons",
    summary="Every coupon template, newest first, with how many were issued and are left",
)
def list_coupons(ctx: Ctx) -> CouponPage:
    return ctx.services.coupons.page(ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/admin/coupons/{coupon_id}",
    auth=MERCH,
    response=Coupon,
    tag="coupons",
    errors=("not_found",),
    summary="One coupon template with how many were issued and are left",
)
def get_coupon(ctx: Ctx, coupon_id: str) -> Coupon:
    return ctx.services.coupons.get(coupon_id)


@route(
    bp,
    "/admin/coupons/{coupon_id}/grants",
    "POST",
    auth=MERCH,
    body=CouponGrantInput,
    response=UserCoupon,
    status=201,
    tag="coupons",
    errors=("not_found", "budget_exhausted", "coupon_limit", "conflict"),
    summary="Give a user one coupon off the budget; a repeated ref returns the first grant",
)
def grant_coupon(ctx: Ctx, coupon_id: str) -> UserCoupon:
    return ctx.services.coupons.grant(ctx.user_id, coupon_id, ctx.body)


@route(
    bp,
    "/me/coupons",
    auth=USER,
    query=PageQuery,
    response=UserCouponPage,
    tag="coupons",
    summary="Your coupons, newest first: available, used (with the order), expired or revoked",
)
def my_coupons(ctx: Ctx) -> UserCouponPage:
    return ctx.services.coupons.mine(ctx.user_id, ctx.query.limit, ctx.query.cursor)
