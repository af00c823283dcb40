"""Builders for the repository tests: domain objects as the services make them, and storage probes."""

from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.dynamo import Table
from chalicelib.domain.catalog import ProductInput
from chalicelib.domain.orders import Order, OrderLine, Payment, ShippingAddress
from tests.helpers import product_body, uid

T0 = "2024-05-01T08:00:00.000Z"
ADDRESS = ShippingAddress(
    name="Li Lei",
    phone="+86 138 0000 0000",
    line1="1 Century Ave",
    city="Shanghai",
    province="Shanghai",
    postal_code="200120",
    country="CN",
)


def line(sku: str, qty: int = 1, unit_price_fen: int = 19900, **extra: Any) -> OrderLine:
    return OrderLine(
        **{
            "sku": sku,
            "product_id": uid("p"),
            "title": f"Item {sku}",
            "category": "tech",
            "qty": qty,
            "unit_price_fen": unit_price_fen,
            "line_total_fen": qty * unit_price_fen,
            "partner_id": "warehouse",
            **extra,
        }
    )


def order(
    user_id: Optional[str] = None,
    *,
    status: str = "pending_payment",
    at: str = T0,
    expires_at: Optional[str] = None,
    payment: Optional[Payment] = None,
    lines: Optional[list[OrderLine]] = None,
    idempotency_key: Optional[str] = None,
) -> Order:
    lines = lines or [line(uid("SKU").upper())]
    subtotal = sum(x.line_total_fen for x in lines)
    return Order(
        order_id=uid("o"),
        user_id=user_id or uid("u"),
        status=status,
        lines=lines,
        subtotal_fen=subtotal,
        points_applied=0,
        cash_due_fen=subtotal,
        payment=payment,
        shipping_address=ADDRESS,
        created_at=at,
        updated_at=at,
        expires_at=expires_at,
        idempotency_key=idempotency_key or uid("idem"),
    )


def product(status: str = "active", at: str = T0, **overrides: Any) -> dict[str, Any]:
    """A product as CatalogService.create hands it to the repository."""
    body = ProductInput.model_validate({**product_body(**overrides), "status": status}).model_dump()
    return {**body, "created_at": at, "updated_at": at, "designer_id": None, "design_id": None}


def design(designer_id: Optional[str] = None, status: str = "submitted", at: str = T0) -> dict[str, Any]:
    """A design as DesignService.submit makes it."""
    return {
        "design_id": uid("d"),
        "designer_id": designer_id or uid("u"),
        "title": "Roof box",
        "description": "x",
        "category": "tech",
        "image_urls": ["https://img.example/1.png"],
        "proposed_price_fen": 9990,
        "status": status,
        "votes": 0,
        "units_sold": 0,
        "royalty_points": 0,
        "created_at": at,
        "updated_at": at,
    }


def audit(services: Any, entity_id: str, at: str = T0):
    """The audit step the catalog writes take: one entry in the same transaction."""
    return lambda tx: services.audit_repo.record(tx, "merch-t", "product.change", entity_id, None, {}, at)


def audited(services: Any) -> list[str]:
    """Entity ids of every audit entry written so far."""
    return [entry["entity_id"] for entry in services.audit_repo.page(100, None)[0]]


def stored(table: Table, *keys: dict[str, Any]) -> list[dict[str, Any]]:
    """The items of `keys` that exist."""
    return table.batch_get(list(keys))
