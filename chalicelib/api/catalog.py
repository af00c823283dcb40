"""Public catalog: categories and active products."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.routing import OPTIONAL, PUBLIC, PUBLIC_MAX_AGE_S, Ctx, route
from chalicelib.domain.base import PageQuery as PageQuery
from chalicelib.domain.catalog import CategoryList, Product

if TYPE_CHECKING:  # discovery's models load with the first search, sorted listing or home, not the cold start
    from chalicelib.domain.home import Home
    from chalicelib.domain.search import SearchPage

bp = Blueprint(__name__)
SEARCH = "chalicelib.domain.search"


@route(
    bp,
    "/categories",
    auth=PUBLIC,
    response=CategoryList,
    cache_s=PUBLIC_MAX_AGE_S,
    tag="catalog",
    summary="The eight categories with their count of active products",
)
def categories(ctx: Ctx) -> CategoryList:
    return ctx.services.catalog.categories()


@route(
    bp,
    "/products",
    auth=OPTIONAL,
    query=f"{SEARCH}:ListQuery",
    cache_s=PUBLIC_MAX_AGE_S,
    response=f"{SEARCH}:SearchPage",
    tag="catalog",
    summary="Active products: newest first, or by `sort` (new, popular, points_asc, points_desc) with `pay` and "
    "`in_stock`; a token adds `eligible`",
    errors=("invalid_request",),
)
def products(ctx: Ctx) -> SearchPage:
    q = ctx.query
    user = ctx.principal.user_id if ctx.principal else None
    if q.sort is None and q.pay is None and not q.in_stock:
        return ctx.services.search.newest(q.category, q.limit, q.cursor, user)
    return ctx.services.search.listed(q, user)


@route(
    bp,
    "/products/search",
    auth=OPTIONAL,
    query=f"{SEARCH}:SearchQuery",
    cache_s=PUBLIC_MAX_AGE_S,
    response=f"{SEARCH}:SearchPage",
    tag="catalog",
    summary="Search active products in Chinese (any part of a title), English (words and their beginnings), pinyin "
    "(in full or initials), SKU codes and synonyms; sort, filter by how they can be paid and stock",
    errors=("invalid_request",),
)
def search(ctx: Ctx) -> SearchPage:
    return ctx.services.search.search(ctx.query, ctx.principal.user_id if ctx.principal else None)


@route(
    bp,
    "/products/{product_id}",
    auth=PUBLIC,
    response=Product,
    cache_s=PUBLIC_MAX_AGE_S,
    tag="catalog",
    summary="One active product with its SKUs, prices and stock",
    errors=("not_found",),
)
def product(ctx: Ctx, product_id: str) -> Product:
    return ctx.services.catalog.product(product_id, active_only=True)


@route(
    bp,
    "/home",
    auth=OPTIONAL,
    response="chalicelib.domain.home:Home",
    cache_s=PUBLIC_MAX_AGE_S,
    tag="catalog",
    summary="The store tab's home: live banners, collections (owners' ones with an owner's token), new arrivals and "
    "popular products",
)
def home(ctx: Ctx) -> Home:
    return ctx.services.home.home(ctx.principal.user_id if ctx.principal else None)
