"""Reviews from verified buyers: buyers write them, everyone reads the approved ones, merchandisers moderate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.routing import PUBLIC, USER, Ctx, route

if TYPE_CHECKING:  # with the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.reviews import Helpful, ProductReviews, Review, ReviewPage

bp = Blueprint(__name__)
MERCH = "merchandiser"
REVIEWS = "chalicelib.domain.reviews"


@route(
    bp,
    "/products/{product_id}/reviews",
    "POST",
    auth=USER,
    body=f"{REVIEWS}:ReviewInput",
    response=f"{REVIEWS}:Review",
    status=201,
    tag="reviews",
    summary="Review a product you bought: a line of your order that reached you (shipped; paid for a digital "
    "line), once per line; it waits for moderation",
    errors=("not_a_buyer", "already_reviewed"),
)
def submit(ctx: Ctx, product_id: str) -> Review:
    return ctx.services.reviews.submit(ctx.user_id, product_id, ctx.body)


@route(
    bp,
    "/products/{product_id}/reviews",
    auth=PUBLIC,
    query=f"{REVIEWS}:ProductReviewQuery",
    response=f"{REVIEWS}:ProductReviews",
    tag="reviews",
    summary="A product's approved reviews (display names only) newest or most helpful first, and its rating",
)
def of_product(ctx: Ctx, product_id: str) -> ProductReviews:
    q = ctx.query
    return ctx.services.reviews.of_product(product_id, q.sort, q.limit, q.cursor)


@route(
    bp,
    "/me/reviews",
    auth=USER,
    query=PageQuery,
    response=f"{REVIEWS}:ReviewPage",
    tag="reviews",
    summary="Your reviews in every status, newest first; a rejected one says why",
)
def mine(ctx: Ctx) -> ReviewPage:
    return ctx.services.reviews.mine(ctx.user_id, ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/reviews/{review_id}/helpful",
    "POST",
    auth=USER,
    response=f"{REVIEWS}:Helpful",
    status=201,
    tag="reviews",
    summary="Found an approved review helpful: once per user",
    errors=("not_found", "already_voted", "own_review"),
)
def helpful(ctx: Ctx, review_id: str) -> Helpful:
    return ctx.services.reviews.helpful(ctx.user_id, review_id)


@route(
    bp,
    "/admin/reviews",
    auth=MERCH,
    query=f"{REVIEWS}:QueueQuery",
    response=f"{REVIEWS}:ReviewPage",
    tag="admin",
    summary="Reviews by status (default: pending, the moderation queue), newest first",
)
def queue(ctx: Ctx) -> ReviewPage:
    return ctx.services.reviews.queue(ctx.query.status, ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/admin/reviews/{review_id}/decision",
    "POST",
    auth=MERCH,
    body=f"{REVIEWS}:Decision",
    response=f"{REVIEWS}:Review",
    tag="admin",
    errors=("not_found", "invalid_status_transition"),
    summary="Approve (it counts in the rating; the reviewer is paid the review task and +2 contribution, once) or "
    "reject (with a note the reviewer reads) a pending review",
)
def decide(ctx: Ctx, review_id: str) -> Review:
    return ctx.services.reviews.decide(ctx.user_id, review_id, ctx.body)
