"""Merchandiser: owner verification (tiers), campaigns and their grants, referrals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.routing import Ctx, route
from chalicelib.domain.points import (
    Campaign,
    CampaignInput,
    CampaignPage,
    Grant,
    GrantInput,
    Referral,
    ReferralInput,
    TierChange,
    UserTier,
)

if TYPE_CHECKING:  # imported by the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.report import PointsReport

REPORT = "chalicelib.domain.report"

bp = Blueprint(__name__)
MERCH = "merchandiser"


@route(
    bp,
    "/admin/users/{user_id}/tier",
    "PUT",
    auth=MERCH,
    body=TierChange,
    response=UserTier,
    tag="admin",
    summary="Set a user's tier; owner needs a valid VIN (vehicle ownership verification)",
)
def set_tier(ctx: Ctx, user_id: str) -> UserTier:
    return ctx.services.points.set_tier(ctx.user_id, user_id, ctx.body)


@route(
    bp,
    "/admin/campaigns",
    "POST",
    auth=MERCH,
    body=CampaignInput,
    response=Campaign,
    status=201,
    tag="admin",
    summary="Create a campaign with a points budget",
    errors=("already_exists",),
)
def create_campaign(ctx: Ctx) -> Campaign:
    return ctx.services.campaigns.create(ctx.user_id, ctx.body)


@route(
    bp,
    "/admin/campaigns",
    auth=MERCH,
    query=PageQuery,
    response=CampaignPage,
    tag="admin",
    summary="Every campaign, newest first, with its budget issued and remaining",
)
def list_campaigns(ctx: Ctx) -> CampaignPage:
    return ctx.services.campaigns.page(ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/admin/campaigns/{campaign_id}",
    auth=MERCH,
    response=Campaign,
    tag="admin",
    summary="A campaign with its issued and remaining points",
    errors=("not_found",),
)
def get_campaign(ctx: Ctx, campaign_id: str) -> Campaign:
    return ctx.services.campaigns.get(campaign_id)


@route(
    bp,
    "/admin/campaigns/{campaign_id}/grants",
    "POST",
    auth=MERCH,
    body=GrantInput,
    response=Grant,
    status=201,
    tag="admin",
    summary="Grant points from the campaign's budget; a repeated ref returns the first grant",
    errors=("not_found", "budget_exhausted"),
)
def grant(ctx: Ctx, campaign_id: str) -> Grant:
    return ctx.services.campaigns.grant(ctx.user_id, campaign_id, ctx.body)


@route(
    bp,
    "/admin/referrals",
    "POST",
    auth=MERCH,
    body=ReferralInput,
    response=Referral,
    status=201,
    tag="admin",
    summary="Reward a referrer (test drive or purchase), once per (referee, kind), from campaign `referral`",
    errors=("self_referral", "already_referred", "budget_exhausted"),
)
def refer(ctx: Ctx) -> Referral:
    return ctx.services.campaigns.refer(ctx.user_id, ctx.body)


@route(
    bp,
    "/admin/points/report",
    auth=MERCH,
    query=f"{REPORT}:ReportQuery",
    response=f"{REPORT}:PointsReport",
    tag="admin",
    summary="The central bank's report: per Asia/Shanghai day, points issued by source, redeemed, returned, "
    "expired, outstanding and the liability in fen (kept from the table's stream)",
)
def points_report(ctx: Ctx) -> PointsReport:
    return ctx.services.points_report.report(ctx.query)
