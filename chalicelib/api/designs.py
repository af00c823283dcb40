"""Co-design: shoppers submit and vote; merchandisers review and productize."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.routing import PUBLIC, PUBLIC_MAX_AGE_S, USER, Ctx, route

if TYPE_CHECKING:  # with the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.catalog import Product
    from chalicelib.domain.designs import Design, DesignPage, Vote

bp = Blueprint(__name__)
MERCH = "merchandiser"
DESIGNS = "chalicelib.domain.designs"


@route(
    bp,
    "/designs",
    "POST",
    auth=USER,
    body=f"{DESIGNS}:DesignInput",
    response=f"{DESIGNS}:Design",
    status=201,
    tag="designs",
    summary="Submit a design (at most 10 waiting for review at once)",
    errors=("too_many_open_designs",),
)
def submit(ctx: Ctx) -> Design:
    return ctx.services.designs.submit(ctx.user_id, ctx.body)


@route(
    bp,
    "/me/designs",
    auth=USER,
    query=PageQuery,
    response=f"{DESIGNS}:DesignPage",
    tag="designs",
    summary="Your designs in every status, newest first, with units sold and royalty points earned",
)
def my_designs(ctx: Ctx) -> DesignPage:
    return ctx.services.designs.page(ctx.query.limit, ctx.query.cursor, designer_id=ctx.user_id)


@route(
    bp,
    "/designs",
    auth=PUBLIC,
    query=f"{DESIGNS}:GalleryQuery",
    cache_s=PUBLIC_MAX_AGE_S,
    response=f"{DESIGNS}:DesignPage",
    tag="designs",
    summary="The public gallery: approved and productized designs with their votes and weighted score, newest "
    "first or by score",
)
def gallery(ctx: Ctx) -> DesignPage:
    q = ctx.query
    return ctx.services.designs.page(q.limit, q.cursor, public=True, by_score=q.sort == "score", category=q.category)


@route(
    bp,
    "/designs/{design_id}/votes",
    "POST",
    auth=USER,
    response=f"{DESIGNS}:Vote",
    status=201,
    tag="designs",
    summary="Vote for a public design, once (not your own); it weighs 1-4 by your contribution score",
    errors=("not_found", "already_voted", "own_design"),
)
def vote(ctx: Ctx, design_id: str) -> Vote:
    return ctx.services.designs.vote(ctx.user_id, design_id)


@route(
    bp,
    "/admin/designs",
    auth=MERCH,
    query=f"{DESIGNS}:DesignReviewQuery",
    response=f"{DESIGNS}:DesignPage",
    tag="admin",
    summary="Designs by status (default: submitted, the review queue), newest first",
)
def review_queue(ctx: Ctx) -> DesignPage:
    return ctx.services.designs.page(ctx.query.limit, ctx.query.cursor, status=ctx.query.status)


@route(
    bp,
    "/admin/designs/{design_id}/decision",
    "POST",
    auth=MERCH,
    body=f"{DESIGNS}:Decision",
    response=f"{DESIGNS}:Design",
    tag="admin",
    errors=("not_found", "invalid_status_transition", "budget_exhausted"),
    summary="Approve (pays the designer's reward once) or reject (with a note) a submitted design",
)
def decide(ctx: Ctx, design_id: str) -> Design:
    return ctx.services.designs.decide(ctx.user_id, design_id, ctx.body)


@route(
    bp,
    "/admin/designs/{design_id}/product",
    "POST",
    auth=MERCH,
    body="chalicelib.domain.catalog:ProductInput",
    response="chalicelib.domain.catalog:Product",
    status=201,
    tag="admin",
    errors=("not_found", "invalid_status_transition", "already_exists"),
    summary="Make an approved design a product (draft unless status is given), linked to its designer",
)
def productize(ctx: Ctx, design_id: str) -> Product:
    return ctx.services.designs.productize(ctx.user_id, design_id, ctx.body)
