"""Calls from other services of the car maker's platform (group `service`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.routing import Ctx, route
from chalicelib.domain.points import Awarded, EarnRequest

if TYPE_CHECKING:  # with the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.contribution import Earned

bp = Blueprint(__name__)


@route(
    bp,
    "/internal/points/earn",
    "POST",
    auth="service",
    body=EarnRequest,
    response=Awarded,
    tag="points",
    summary="Award a task of the policy in force (GET /admin/tasks): capped or not, at most per_day a Shanghai day, "
    "with its contribution; the same (user, task, ref) pays once and returns the first result",
    errors=("unknown_task",),
)
def earn(ctx: Ctx) -> Awarded:
    return ctx.services.points.earn(ctx.body)


@route(
    bp,
    "/internal/contribution",
    "POST",
    auth="service",
    body="chalicelib.domain.contribution:ContributionRequest",
    response="chalicelib.domain.contribution:Earned",
    status=201,
    tag="contribution",
    summary="Award contribution score (1..10,000) for what a user gave the community; the "
    "same (user, kind, ref) earns once: a repeat is 201 with the first entry, created false",
)
def contribute(ctx: Ctx) -> Earned:
    body = ctx.body
    return ctx.services.contribution.earn(body.user_id, body.kind, body.ref, body.amount)
