"""Merchandisers curate the home: collections and banners, each with a position and a publish window (audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.routing import Ctx, route

if TYPE_CHECKING:
    from chalicelib.domain.home import Banner, BannerList, Collection, CollectionList, Home

bp = Blueprint(__name__)
MERCH = "merchandiser"
HOME = "chalicelib.domain.home"


@route(
    bp,
    "/admin/collections",
    auth=MERCH,
    response=f"{HOME}:CollectionList",
    tag="home",
    summary="Every collection, live or not, by position",
)
def collections(ctx: Ctx) -> CollectionList:
    from chalicelib.domain.home import CollectionList

    return CollectionList(items=ctx.services.home.entries("collection"))


@route(
    bp,
    "/admin/collections",
    "POST",
    auth=MERCH,
    body=f"{HOME}:CollectionInput",
    response=f"{HOME}:Collection",
    status=201,
    tag="home",
    summary="A collection of existing products in the order given (at most 50 collections)",
    errors=("already_exists", "conflict"),
)
def create_collection(ctx: Ctx) -> Collection:
    return ctx.services.home.create(ctx.user_id, "collection", ctx.body)


@route(
    bp,
    "/admin/collections/{collection_id}",
    "PUT",
    auth=MERCH,
    body=f"{HOME}:CollectionUpdate",
    response=f"{HOME}:Collection",
    tag="home",
    summary="Replace a collection's title, products, position, audience and window",
    errors=("conflict",),
)
def update_collection(ctx: Ctx, collection_id: str) -> Collection:
    return ctx.services.home.update(ctx.user_id, "collection", collection_id, ctx.body)


@route(
    bp,
    "/admin/collections/{collection_id}",
    "DELETE",
    auth=MERCH,
    response=f"{HOME}:Collection",
    tag="home",
    summary="Remove a collection (the answer is what was removed)",
)
def delete_collection(ctx: Ctx, collection_id: str) -> Collection:
    return ctx.services.home.delete(ctx.user_id, "collection", collection_id)


@route(
    bp,
    "/admin/banners",
    auth=MERCH,
    response=f"{HOME}:BannerList",
    tag="home",
    summary="Every banner, live or not, by position",
)
def banners(ctx: Ctx) -> BannerList:
    from chalicelib.domain.home import BannerList

    return BannerList(items=ctx.services.home.entries("banner"))


@route(
    bp,
    "/admin/banners",
    "POST",
    auth=MERCH,
    body=f"{HOME}:BannerInput",
    response=f"{HOME}:Banner",
    status=201,
    tag="home",
    summary="A banner: an image and where it leads (an https URL or an app path; at most 20 banners)",
    errors=("already_exists", "conflict"),
)
def create_banner(ctx: Ctx) -> Banner:
    return ctx.services.home.create(ctx.user_id, "banner", ctx.body)


@route(
    bp,
    "/admin/banners/{banner_id}",
    "PUT",
    auth=MERCH,
    body=f"{HOME}:BannerUpdate",
    response=f"{HOME}:Banner",
    tag="home",
    summary="Replace a banner's title, image, link, position and window",
    errors=("conflict",),
)
def update_banner(ctx: Ctx, banner_id: str) -> Banner:
    return ctx.services.home.update(ctx.user_id, "banner", banner_id, ctx.body)


@route(
    bp,
    "/admin/banners/{banner_id}",
    "DELETE",
    auth=MERCH,
    response=f"{HOME}:Banner",
    tag="home",
    summary="Remove a banner (the answer is what was removed)",
)
def delete_banner(ctx: Ctx, banner_id: str) -> Banner:
    return ctx.services.home.delete(ctx.user_id, "banner", banner_id)


@route(
    bp,
    "/admin/home/preview",
    auth=MERCH,
    query=f"{HOME}:PreviewQuery",
    response=f"{HOME}:Home",
    tag="home",
    summary="The home as a fan (`as=fan`) or an owner (`as=owner`) sees it now",
    errors=("invalid_request",),
)
def preview(ctx: Ctx) -> Home:
    return ctx.services.home.as_tier(ctx.query.as_)
