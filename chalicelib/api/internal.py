"""Calls from other services of the car maker's platform (group `service`)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.routing import Ctx, route
from chalicelib.domain.points import Awarded, EarnRequest

bp = Blueprint(__name__)


@route(bp, "/internal/points/earn", "POST", auth="service", body=EarnRequest, response=Awarded, tag="points",
       summary="Award a community task (post, comment, share, feedback) under the daily cap; "
               "the same (user, task, ref) pays once and returns the first result")
def earn(ctx: Ctx) -> Awarded:
    return ctx.services.points.earn(ctx.body)
