"""Public catalog: categories and active products."""

from __future__ import annotations

from typing import Optional

from chalice import Blueprint
from pydantic import Field

from chalicelib.api.routing import PUBLIC, PUBLIC_MAX_AGE_S, Ctx, route
from chalicelib.domain.base import Model
from chalicelib.domain.catalog import CategoryId, CategoryList, Product, ProductPage

bp = Blueprint(__name__)


class PageQuery(Model):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Optional[str] = Field(default=None, max_length=2048)


class ProductQuery(PageQuery):
    category: Optional[CategoryId] = None


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
    auth=PUBLIC,
    query=ProductQuery,
    cache_s=PUBLIC_MAX_AGE_S,
    response=ProductPage,
    tag="catalog",
    summary="Active products, newest first, optionally in one category",
    errors=("invalid_request",),
)
def products(ctx: Ctx) -> ProductPage:
    q = ctx.query
    return ctx.services.catalog.products("active", q.category, q.limit, q.cursor, public=True)


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
