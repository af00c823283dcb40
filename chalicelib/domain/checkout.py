"""Checkout rules: the order request, how points and cash split, and the order's state machine."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional

from pydantic import Field, StringConstraints, field_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.catalog import SkuId
from chalicelib.domain.errors import CashBelowMinimum, InvalidPointsSplit
from chalicelib.domain.money import FEN_PER_POINT

OrderStatus = Literal["pending_payment", "paid", "shipped", "expired", "cancelled", "payment_failed", "refunded"]
TRANSITIONS: dict[str, set[str]] = {
    "pending_payment": {"paid", "expired", "cancelled", "payment_failed"},
    "paid": {"shipped", "cancelled", "refunded"},
    "shipped": {"refunded"},
}
MAX_POINTS = 1_000_000_000


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, set())



Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class ShippingAddress(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 -]{5,20}$")]
    line1: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    city: Text
    province: Text
    postal_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 -]{3,12}$")]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(description="ISO 3166 alpha-2, e.g. CN")


class LineRequest(Strict):
    sku: SkuId
    qty: int = Field(ge=1, le=99)


class OrderRequest(Strict):
    items: list[LineRequest] = Field(min_length=1, max_length=50)
    points: int = Field(ge=0, le=MAX_POINTS)
    shipping_address: Optional[ShippingAddress] = None

    @field_validator("items")
    @classmethod
    def _distinct_skus(cls, items: list[LineRequest]) -> list[LineRequest]:
        skus = [i.sku for i in items]
        if len(set(skus)) != len(skus):
            raise ValueError("each sku may appear once; use qty for more")
        return items


@dataclass(frozen=True)
class PricedLine:
    """A requested line priced from the store (never from the request)."""

    sku: str
    product_id: str
    title: str
    category: str
    qty: int
    unit_price_fen: int
    accepts_points: bool
    accepts_cash: bool
    owner_only: bool
    designer_id: Optional[str] = None
    design_id: Optional[str] = None

    @property
    def line_total_fen(self) -> int:
        return self.unit_price_fen * self.qty

    def view(self) -> dict[str, Any]:
        return {"sku": self.sku, "product_id": self.product_id, "title": self.title, "category": self.category,
                "qty": self.qty, "unit_price_fen": self.unit_price_fen, "line_total_fen": self.line_total_fen,
                "designer_id": self.designer_id, "design_id": self.design_id}


class OrderLine(Model):
    sku: str
    product_id: str
    title: str
    category: str
    qty: int
    unit_price_fen: int
    line_total_fen: int
    designer_id: Optional[str] = None
    design_id: Optional[str] = None


class Quote(Model):
    subtotal_fen: int
    min_points: int
    max_points: int
    points_applied: int
    cash_due_fen: int
    lines: list[OrderLine]


def split(lines: list[PricedLine], points: int, min_charge_fen: int) -> Quote:
    """Check a points/cash split against the lines and return the quote it makes."""
    subtotal = sum(line.line_total_fen for line in lines)
    min_points = sum(line.line_total_fen for line in lines if not line.accepts_cash) // FEN_PER_POINT
    max_points = sum(line.line_total_fen for line in lines if line.accepts_points) // FEN_PER_POINT
    bounds = {"min_points": min_points, "max_points": max_points, "points": points}
    if not min_points <= points <= max_points:
        raise InvalidPointsSplit(f"points must be between {min_points} and {max_points} for these items", bounds)
    cash = subtotal - points * FEN_PER_POINT
    if 0 < cash < min_charge_fen:
        lower = (subtotal - min_charge_fen) // FEN_PER_POINT
        higher = subtotal // FEN_PER_POINT
        nearest = [p for p in (lower, higher) if min_points <= p <= max_points]
        raise CashBelowMinimum(
            f"a cash part of {cash} fen is below the minimum charge of {min_charge_fen} fen; "
            f"use {' or '.join(str(p) for p in nearest)} points", {**bounds, "cash_due_fen": cash,
                                                                   "min_charge_fen": min_charge_fen,
                                                                   "nearest_valid_points": nearest})
    return Quote(subtotal_fen=subtotal, min_points=min_points, max_points=max_points, points_applied=points,
                 cash_due_fen=cash, lines=[OrderLine(**line.view()) for line in lines])


class Payment(Model):
    provider: Literal["stripe", "local"]
    payment_intent_id: str
    client_secret: Optional[str]
    status: str


class Shipment(Model):
    carrier: str
    tracking_number: str
    shipped_at: str


class Order(Model):
    order_id: str
    user_id: str
    status: OrderStatus
    lines: list[OrderLine]
    subtotal_fen: int
    points_applied: int
    cash_due_fen: int
    payment: Optional[Payment] = None
    shipping_address: Optional[ShippingAddress] = None
    shipment: Optional[Shipment] = None
    created_at: str
    updated_at: str
    expires_at: Optional[str] = None


class OrderPage(Model):
    items: list[Order]
    next_cursor: Optional[str]


class RefundRequest(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ShipmentRequest(Strict):
    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    tracking_number: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{4,40}$")]
