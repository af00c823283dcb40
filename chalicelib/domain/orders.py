"""An order as the shop keeps it: its lines, payment, shipment and status; plus the shopper's order requests."""

from typing import Annotated, Any, Literal, Optional

from pydantic import Field, SerializationInfo, StringConstraints, computed_field, field_serializer, model_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.catalog import SkuId
from chalicelib.domain.text import OneLine

OrderStatus = Literal[
    "pending_payment", "paid", "partially_shipped", "shipped", "expired", "cancelled", "payment_failed", "refunded"
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), OneLine]


class ShippingAddress(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), OneLine]
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 -]{5,20}$")]
    line1: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]
    city: Text
    province: Text
    postal_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 -]{3,12}$")]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(description="ISO 3166 alpha-2, e.g. CN")


class LineItem(Model):
    """What a line is, to anyone who handles it (a partner sees no more)."""

    sku: str
    product_id: str
    title: str
    category: str
    qty: int
    unit_price_fen: int
    line_total_fen: int


class BookingDetail(Model):
    """What a booking line takes (chalicelib/domain/bookings.py has the rules)."""

    resource_id: str
    house: str
    kind: Literal["room", "book"]
    date: str = Field(description="Asia/Shanghai")
    start: str = Field(description="HH:MM, Asia/Shanghai")
    slots: int
    starts_at: str = Field(description="UTC")
    ends_at: str = Field(description="UTC; a book's due_at")
    cancel_until: str = Field(description="UTC: 2 hours before the start")
    slot_starts: list[str] = Field(description='the slots it takes, "YYYY-MM-DD HH:MM" (Asia/Shanghai)')


class OrderLine(LineItem):
    designer_id: Optional[str] = Field(
        default=None,
        description="the designer's user id; API responses show it to merchandisers only (null to anyone else)",
    )
    design_id: Optional[str] = None
    partner_id: Optional[str] = Field(
        default=None,
        description="the fulfillment partner that ships this line, routed by category when the order is placed",
    )
    digital: bool = Field(
        default=False,
        description="nothing is shipped: a voucher (its codes are in the order) or a coupon (in GET /me/coupons)",
    )
    coupon_id: Optional[str] = Field(default=None, description="a coupon product: the coupon template it buys")
    booking: Optional[BookingDetail] = Field(default=None, description="a NIO House booking: what it takes")
    discount_fen: int = Field(
        default=0,
        description="this line's part of the order's coupon discount (its points "
        "and cash pay line_total_fen - discount_fen)",
    )

    @property
    def is_voucher(self) -> bool:
        return self.digital and self.coupon_id is None

    @property
    def net_fen(self) -> int:
        return self.line_total_fen - self.discount_fen

    @field_serializer("designer_id", when_used="unless-none")  # a line with no designer is null without a call
    def _designer_for_merchandisers(self, designer_id: Optional[str], info: SerializationInfo) -> Optional[str]:
        """Who designed a line stays with the shop: a response to anyone but a merchandiser shows null (the
        route renders with context {"shopper": True}); storage and royalties keep it."""
        return None if info.context and info.context.get("shopper") else designer_id


class Voucher(Model):
    sku: str
    code: str
    status: Literal["valid", "void"] = Field(
        default="valid",
        description="void once its order is cancelled or refunded (a code that was shown is never sold again)",
    )


class Payment(Model):
    provider: Literal["stripe", "local"]
    payment_intent_id: str
    client_secret: Optional[str]
    status: str
    amount_fen: Optional[int] = None  # what the PaymentIntent charges (the order's cash_due_fen)
    refund_id: Optional[str] = None


class Shipment(Model):
    carrier: str
    tracking_number: str
    shipped_at: str
    partner_id: Optional[str] = None  # None only on orders shipped before partners had their own lines
    skus: list[str] = Field(default_factory=list, description="the lines this shipment carries")


class Order(Model):
    """What the shopper, merchandisers and partners see. The excluded fields are the shop's own bookkeeping."""

    order_id: str
    user_id: str
    status: OrderStatus
    lines: list[OrderLine]
    subtotal_fen: int
    discount_fen: int = Field(default=0, description="what the coupon took off: points and cash pay the rest")
    coupon: Optional[str] = Field(default=None, description="the coupon this order used")
    points_applied: int
    cash_due_fen: int
    payment: Optional[Payment] = None
    shipping_address: Optional[ShippingAddress] = None
    shipments: list[Shipment] = Field(default_factory=list, description="one per parcel a partner reported")
    created_at: str
    updated_at: str
    expires_at: Optional[str] = None
    version: int = Field(default=0, exclude=True)
    idempotency_key: Optional[str] = Field(default=None, exclude=True)
    late_payment_refund: Optional[dict[str, Any]] = Field(default=None, exclude=True)
    # SKUs whose stock lives on shard items: where this order's units came from, [[shard, qty], ...] per sku,
    # so a cancel gives them back to the same shards
    stock_shards: dict[str, list[list[int]]] = Field(default_factory=dict, exclude=True)
    # units of limited products (per_user_limit) this order counts against its buyer: {product_id: units}
    purchase_limits: dict[str, int] = Field(default_factory=dict, exclude=True)
    # the budget shards the coupons this order bought came from: {coupon_id: [[shard, count], ...]}
    coupon_budget: dict[str, list[list[int]]] = Field(default_factory=dict, exclude=True)
    coupons: list[str] = Field(default_factory=list, description="the coupons this order bought (GET /me/coupons)")
    vouchers: list[Voucher] = Field(
        default_factory=list,
        description="the codes of voucher lines, shown to the buyer "
        "once the order is paid (merchandisers see the last 3 characters; partners none)",
    )

    @field_serializer("vouchers")
    def _codes_once_paid(self, vouchers: list[Voucher], info: SerializationInfo) -> list[Voucher]:
        """A code is revealed by payment: in a response (rendered with a context), an unpaid or never paid order
        shows none; storage keeps them."""
        if info.context is None:
            return vouchers
        if self.status in ("pending_payment", "expired", "payment_failed"):
            return []
        void = self.status in ("cancelled", "refunded")
        staff = info.context.get("shopper") is False  # merchandisers see that codes went out, not the codes
        return [
            v.model_copy(
                update={**({"status": "void"} if void else {}), **({"code": "•" * 6 + v.code[-3:]} if staff else {})}
            )
            for v in vouchers
        ]

    @model_validator(mode="before")
    @classmethod
    def _one_shipment_before_partners(cls, data: Any) -> Any:
        """Orders stored before per-partner shipping kept one `shipment`: it becomes the list's only entry."""
        if isinstance(data, dict) and "shipments" not in data and data.get("shipment"):
            return {**data, "shipments": [data["shipment"]]}
        return data

    @computed_field(description="the latest of `shipments` (kept for clients of the first contract)")
    def shipment(self) -> Optional[Shipment]:
        return self.shipments[-1] if self.shipments else None

    @property
    def designer_lines(self) -> list[OrderLine]:
        return [line for line in self.lines if line.designer_id]

    @property
    def partners(self) -> list[str]:
        """The partners that ship this order's lines, in line order."""
        return list(dict.fromkeys(line.partner_id for line in self.lines if line.partner_id))

    def lines_of(self, partner_id: str) -> list[OrderLine]:
        return [line for line in self.lines if line.partner_id == partner_id]

    @property
    def shipped_skus(self) -> set[str]:
        if self.status == "shipped":
            return {line.sku for line in self.lines}
        return {sku for shipment in self.shipments for sku in shipment.skus}

    def routed(self, routes: dict[str, str]) -> "Order":
        """Lines of orders placed before routing existed get the partner their category goes to today."""
        if all(line.partner_id or line.digital or line.category not in routes for line in self.lines):
            return self  # routed already, or nothing a partner ships (event tickets, vouchers)
        lines = [
            line
            if line.partner_id or line.digital
            else line.model_copy(update={"partner_id": routes.get(line.category)})
            for line in self.lines
        ]
        return self.model_copy(update={"lines": lines})


class OrderPage(Model):
    items: list[Order]
    next_cursor: Optional[str]


class RefundRequest(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]


class ShipmentRequest(Strict):
    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), OneLine]
    tracking_number: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{4,40}$")]
    skus: Optional[list[SkuId]] = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="the lines in this parcel (default: every line of yours not yet shipped)",
    )
