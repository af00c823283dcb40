"""Tips to creators (打赏), and the merchandisers' review of who tips whom."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.orders import idempotency_key
from chalicelib.api.routing import USER, Ctx, route

if TYPE_CHECKING:  # with the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.tips import Tip, TipFlows

bp = Blueprint(__name__)
TIPS = "chalicelib.domain.tips"


@route(
    bp,
    "/tips",
    "POST",
    auth=USER,
    body=f"{TIPS}:TipInput",
    response=f"{TIPS}:Tip",
    status=201,
    tag="tips",
    headers={
        "Idempotency-Key": "8-64 characters, unique per tip; a retry with the same key and body gets the same tip"
    },
    errors=(
        "self_tip",
        "not_found",
        "not_the_creator",
        "account_too_new",
        "insufficient_points",
        "tip_limit_reached",
        "receive_limit_reached",
        "idempotency_key_reused",
    ),
    summary="Tip the designer of a public design or the host of a published event; the burn rate's share is burned",
)
def send(ctx: Ctx) -> Tip:
    return ctx.services.tips.send(ctx.user_id, idempotency_key(ctx), ctx.body)


@route(
    bp,
    "/admin/tips/flows",
    auth="merchandiser",
    query=f"{TIPS}:FlowQuery",
    response=f"{TIPS}:TipFlows",
    tag="tips",
    summary="For review: the largest sender → recipient tip flows and the pairs who tipped each other (last N days)",
)
def flows(ctx: Ctx) -> TipFlows:
    return ctx.services.tips.flows(ctx.query)
