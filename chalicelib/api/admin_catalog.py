"""Merchandiser catalog management and the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.routing import Ctx, route
from chalicelib.domain.catalog import (
    CategoryId,
    CodesAdded,
    CodeUpload,
    Product,
    ProductInput,
    ProductPage,
    ProductStatus,
    ProductUpdate,
    SkuStock,
    StockAdjustment,
)

if TYPE_CHECKING:  # imported by the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.audit import AuditPage

AUDIT = "chalicelib.domain.audit"

bp = Blueprint(__name__)
MERCH = "merchandiser"
WRITE_ERRORS = ("invalid_request", "unauthorized", "forbidden")


class AdminProductQuery(PageQuery):
    status: Optional[ProductStatus] = None
    category: Optional[CategoryId] = None


@route(
    bp,
    "/admin/products",
    "POST",
    auth=MERCH,
    body=ProductInput,
    response=Product,
    status=201,
    tag="admin",
    summary="Create a product (draft unless status is given)",
    errors=WRITE_ERRORS + ("already_exists",),
)
def create_product(ctx: Ctx) -> Product:
    return ctx.services.catalog.create(ctx.user_id, ctx.body)


@route(
    bp,
    "/admin/products",
    auth=MERCH,
    query=AdminProductQuery,
    response=ProductPage,
    tag="admin",
    summary="Every product in any status, newest first",
    errors=WRITE_ERRORS,
)
def list_products(ctx: Ctx) -> ProductPage:
    q = ctx.query
    return ctx.services.catalog.products(q.status, q.category, q.limit, q.cursor)


@route(
    bp,
    "/admin/products/{product_id}",
    auth=MERCH,
    response=Product,
    tag="admin",
    summary="One product in any status",
    errors=WRITE_ERRORS + ("not_found",),
)
def get_product(ctx: Ctx, product_id: str) -> Product:
    return ctx.services.catalog.product(product_id, active_only=False)


@route(
    bp,
    "/admin/products/{product_id}",
    "PUT",
    auth=MERCH,
    body=ProductUpdate,
    response=Product,
    tag="admin",
    summary="Replace a product's editable fields (stock of existing SKUs is kept; use the stock endpoint)",
    errors=WRITE_ERRORS + ("not_found", "conflict", "already_exists"),
)
def update_product(ctx: Ctx, product_id: str) -> Product:
    return ctx.services.catalog.update(ctx.user_id, product_id, ctx.body)


@route(
    bp,
    "/admin/products/{product_id}/publish",
    "POST",
    auth=MERCH,
    response=Product,
    tag="admin",
    summary="Make a draft or archived product active",
    errors=WRITE_ERRORS + ("not_found", "invalid_status_transition"),
)
def publish_product(ctx: Ctx, product_id: str) -> Product:
    return ctx.services.catalog.set_status(ctx.user_id, product_id, "active")


@route(
    bp,
    "/admin/products/{product_id}/archive",
    "POST",
    auth=MERCH,
    response=Product,
    tag="admin",
    summary="Take a product off sale",
    errors=WRITE_ERRORS + ("not_found", "invalid_status_transition"),
)
def archive_product(ctx: Ctx, product_id: str) -> Product:
    return ctx.services.catalog.set_status(ctx.user_id, product_id, "archived")


@route(
    bp,
    "/admin/skus/{sku}/stock",
    "POST",
    auth=MERCH,
    body=StockAdjustment,
    response=SkuStock,
    tag="admin",
    summary="Add or remove stock with a reason; never below zero (not a voucher's or an event ticket's)",
    errors=WRITE_ERRORS + ("not_found", "insufficient_stock"),
)
def adjust_stock(ctx: Ctx, sku: str) -> SkuStock:
    return ctx.services.catalog.adjust_stock(ctx.user_id, sku, ctx.body)


@route(
    bp,
    "/admin/skus/{sku}/codes",
    "POST",
    auth=MERCH,
    body=CodeUpload,
    response=CodesAdded,
    tag="admin",
    summary="Upload a voucher SKU's codes (up to 1,000 a call): each is sold once; duplicates are counted, not stored",
    errors=WRITE_ERRORS + ("not_found", "not_available"),
)
def upload_codes(ctx: Ctx, sku: str) -> CodesAdded:
    return ctx.services.catalog.upload_codes(ctx.user_id, sku, ctx.body)


@route(
    bp,
    "/admin/audit",
    auth=MERCH,
    query=PageQuery,
    response=f"{AUDIT}:AuditPage",
    tag="admin",
    summary="Every merchandiser action, newest first",
    errors=WRITE_ERRORS,
)
def audit(ctx: Ctx) -> AuditPage:
    return ctx.services.audit.page(ctx.query.limit, ctx.query.cursor)
