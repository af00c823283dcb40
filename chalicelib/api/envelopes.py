"""Points red envelopes: sending, claiming, and reading one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.orders import idempotency_key
from chalicelib.api.routing import USER, Ctx, route

if TYPE_CHECKING:  # imported by the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.envelopes import Envelope, EnvelopeClaim, EnvelopePage

ENVELOPES = "chalicelib.domain.envelopes"

bp = Blueprint(__name__)
IDEMPOTENCY = {
    "Idempotency-Key": "8-64 characters, unique per envelope; a retry sends the same key and gets the same envelope"
}


@route(
    bp,
    "/envelopes",
    "POST",
    auth=USER,
    body=f"{ENVELOPES}:EnvelopeInput",
    response=f"{ENVELOPES}:Envelope",
    status=201,
    tag="envelopes",
    headers=IDEMPOTENCY,
    errors=(
        "owner_only",
        "forbidden",
        "not_found",
        "insufficient_points",
        "budget_exhausted",
        "idempotency_key_reused",
    ),
    summary="Send a points red envelope: from your points (verified owners) or, for merchandisers, a campaign",
)
def send(ctx: Ctx) -> Envelope:
    return ctx.services.envelopes.create(ctx.user_id, ctx.is_merchandiser, idempotency_key(ctx), ctx.body)


@route(
    bp,
    "/envelopes/{envelope_id}",
    auth=USER,
    response=f"{ENVELOPES}:Envelope",
    tag="envelopes",
    errors=("not_found", "not_in_audience"),
    summary="One envelope: shares left, the newest claims and the luckiest one (sender, audience, merchandisers)",
)
def envelope(ctx: Ctx, envelope_id: str) -> Envelope:
    return ctx.services.envelopes.get(ctx.user_id, ctx.is_merchandiser, envelope_id)


@route(
    bp,
    "/envelopes/{envelope_id}/claims",
    "POST",
    auth=USER,
    response=f"{ENVELOPES}:EnvelopeClaim",
    status=201,
    tag="envelopes",
    errors=("not_found", "not_in_audience", "own_envelope", "already_claimed", "envelope_empty", "envelope_expired"),
    summary="Claim a share (once per person); the points are yours at once",
)
def claim(ctx: Ctx, envelope_id: str) -> EnvelopeClaim:
    return ctx.services.envelopes.claim(ctx.user_id, envelope_id)


@route(
    bp,
    "/me/envelopes",
    auth=USER,
    query=PageQuery,
    response=f"{ENVELOPES}:EnvelopePage",
    tag="envelopes",
    summary="The envelopes you sent, newest first",
)
def sent(ctx: Ctx) -> EnvelopePage:
    return ctx.services.envelopes.sent(ctx.user_id, ctx.query.limit, ctx.query.cursor)
