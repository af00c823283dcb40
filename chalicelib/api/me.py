"""The signed-in shopper: profile, daily check-in, points and contribution ledgers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.routing import USER, Ctx, route
from chalicelib.domain.points import CheckinResult, LedgerPage, LotList, Me, ProfileInput, ProfileView

if TYPE_CHECKING:  # with the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.contribution import ContributionLedgerPage

bp = Blueprint(__name__)


@route(
    bp,
    "/me",
    auth=USER,
    response=Me,
    tag="me",
    summary="Your tier, points balance, today's earning and contribution score",
)
def me(ctx: Ctx) -> Me:
    return ctx.services.points.me(ctx.user_id)


@route(
    bp,
    "/me/points/lots",
    auth=USER,
    response=LotList,
    tag="points",
    summary="Your points by lot: each lot expires at the end of its month (Asia/Shanghai); spending takes the "
    "earliest first",
)
def lots(ctx: Ctx) -> LotList:
    return ctx.services.lots.lots(ctx.user_id)


@route(bp, "/me/profile", auth=USER, response=ProfileView, tag="me", summary="Your birthday (for birthday care)")
def profile(ctx: Ctx) -> ProfileView:
    return ctx.services.occasions.profile(ctx.user_id)


@route(
    bp,
    "/me/profile",
    "PUT",
    auth=USER,
    body=ProfileInput,
    response=ProfileView,
    tag="me",
    summary="Set your birthday (MM-DD; changeable once a year): the policy's birthday points arrive on the day",
    errors=("too_soon",),
)
def set_profile(ctx: Ctx) -> ProfileView:
    return ctx.services.occasions.set_profile(ctx.user_id, ctx.body)


@route(
    bp,
    "/me/checkins",
    "POST",
    auth=USER,
    response=CheckinResult,
    status=201,
    tag="points",
    summary="Daily check-in (once per Asia/Shanghai day; capped by your tier)",
    errors=("already_checked_in",),
)
def check_in(ctx: Ctx) -> CheckinResult:
    return ctx.services.points.check_in(ctx.user_id)


@route(
    bp,
    "/me/points/ledger",
    auth=USER,
    query=PageQuery,
    response=LedgerPage,
    tag="points",
    summary="Every change of your points, newest first",
)
def ledger(ctx: Ctx) -> LedgerPage:
    return ctx.services.points.ledger(ctx.user_id, ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/me/contribution/ledger",
    auth=USER,
    query=PageQuery,
    response="chalicelib.domain.contribution:ContributionLedgerPage",
    tag="contribution",
    summary="Every award of your contribution score, newest first",
)
def contribution_ledger(ctx: Ctx) -> ContributionLedgerPage:
    return ctx.services.contribution.ledger(ctx.user_id, ctx.query.limit, ctx.query.cursor)
