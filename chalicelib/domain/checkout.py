"""Checkout rules: the order request, pricing from the store's SKUs, and how points and cash split."""

import datetime as dt
import hashlib
from typing import Annotated, Any, NamedTuple, Optional, Protocol, Self, Sequence, Union, cast

from pydantic import Discriminator, Field, StringConstraints, Tag, ValidationError, field_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.catalog import MAX_VOUCHERS_PER_ORDER, SkuId
from chalicelib.domain.coupons import MAX_COUPONS_PER_ORDER, UserCouponId
from chalicelib.domain.errors import (
    CashBelowMinimum,
    InsufficientStock,
    InvalidPointsSplit,
    InvalidRequest,
    NotAvailable,
    NotFound,
    NotYetOnSale,
    OwnerOnly,
    PriceChanged,
    PurchaseLimit,
    TierTooLow,
)
from chalicelib.domain.money import FEN_PER_POINT
from chalicelib.domain.orders import BookingDetail, OrderLine, ShippingAddress
from chalicelib.domain.points import tier_allows
from chalicelib.domain.tickets import TICKET_CATEGORY

MAX_POINTS = 1_000_000_000


class LineRequest(Strict):
    sku: SkuId
    qty: int = Field(ge=1, le=99)


BOOKING_CATEGORY = "booking"  # a booking line's category: no partner ships it, no address needed
MAX_BOOKED_SLOTS = 8  # over all the booking lines of one order
ResourceId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,47}$")]


def booking_sku(resource_id: str) -> str:
    """The SKU a resource's booking lines are priced as (it is never sold as a SKU line)."""
    return f"RES-{resource_id}"


class BookingLine(Strict):
    resource_id: ResourceId
    date: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] = Field(description="Asia/Shanghai")
    start: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = Field(
        description="HH:MM, a slot's start (Asia/Shanghai)"
    )
    slots: int = Field(ge=1, le=8, description="consecutive slots from start")

    @field_validator("date")
    @classmethod
    def _a_date(cls, value: str) -> str:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("date is not a date") from None
        return value


class BookingRequest(Strict):
    """A line that books a NIO House resource: `{"booking": {...}}` among an order's items."""

    booking: BookingLine

    @property
    def sku(self) -> str:
        return booking_sku(self.booking.resource_id)

    @property
    def qty(self) -> int:
        return self.booking.slots


def _line_kind(value: Any) -> str:
    booked = isinstance(value, BookingRequest) or (isinstance(value, dict) and "booking" in value)
    return "~booking" if booked else "~sku"


# An item is a SKU line or a booking line; errors name their fields as before bookings (api/errors.py drops "~" tags).
ItemRequest = Annotated[
    Union[Annotated[LineRequest, Tag("~sku")], Annotated[BookingRequest, Tag("~booking")]], Discriminator(_line_kind)
]


class ExpectedQuote(Strict):
    """What the app showed the shopper; an order whose server-side numbers differ is refused (409 price_changed)."""

    cash_due_fen: int = Field(ge=0, le=MAX_POINTS * FEN_PER_POINT)
    points: int = Field(ge=0, le=MAX_POINTS)


class OrderRequest(Strict):
    items: list[ItemRequest] = Field(min_length=1, max_length=50)
    points: int = Field(ge=0, le=MAX_POINTS)
    shipping_address: Optional[ShippingAddress] = None
    expected: Optional[ExpectedQuote] = Field(default=None, description="the numbers the shopper was shown")
    coupon: Optional[UserCouponId] = Field(
        default=None,
        description="one of your coupons (GET /me/coupons): its discount comes off before the points/cash split",
    )

    @field_validator("items")
    @classmethod
    def _distinct_skus(
        cls, items: list[Union[LineRequest, BookingRequest]]
    ) -> list[Union[LineRequest, BookingRequest]]:
        skus = [i.sku for i in items]
        if len(set(skus)) != len(skus):
            raise ValueError("each sku (or resource booked) may appear once; use qty (or slots) for more")
        return items

    @classmethod
    def model_validate_json(cls, *args: Any, **kwargs: Any) -> Self:
        """A body of SKU lines only, as most are, is read as `_SkuLines` (an OrderRequest too): without the items'
        discriminator, a Python call per item (the quote's read then takes a twentieth less). Anything that model
        refuses, bookings included, is validated again here, and these errors are the ones a client sees. A body
        alone goes straight to the validator: pydantic's wrapper adds only a check of options not given."""
        if cls is OrderRequest:
            try:
                if len(args) == 1 and not kwargs:
                    return cast(Self, _SkuLines.__pydantic_validator__.validate_json(args[0]))
                return cast(Self, _SkuLines.model_validate_json(*args, **kwargs))
            except ValidationError:
                pass
        return super().model_validate_json(*args, **kwargs)


class _SkuLines(OrderRequest):
    """An OrderRequest whose items are all SKU lines: what it accepts, OrderRequest accepts as the same request (an
    item without "booking" is a LineRequest there too)."""

    items: list[LineRequest] = Field(min_length=1, max_length=50)  # type: ignore[assignment]


class PricedLine(NamedTuple):
    """A requested line priced from the store (never from the request). A named tuple, as `SkuOffer`: immutable,
    and built in a third of a frozen dataclass's time (each checkout builds one per line)."""

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
    digital: bool = False  # nothing shipped: a voucher (codes in the order) or a coupon (in GET /me/coupons)
    coupon_id: Optional[str] = None  # a coupon product: the template of the coupons it buys
    booking: Optional[BookingDetail] = None  # a NIO House booking: the slots it takes

    @property
    def line_total_fen(self) -> int:
        return self.unit_price_fen * self.qty

    @property
    def buys_coupon(self) -> bool:
        return self.coupon_id is not None

    def line(self, discount_fen: int = 0) -> OrderLine:
        """The order line it makes, with its part of the order's discount: every field from the store's typed
        values, in OrderLine's order, so it is made without validation (`Model.trusted`; a test holds it to
        `OrderLine.model_validate`)."""
        return OrderLine.trusted(
            {
                "sku": self.sku,
                "product_id": self.product_id,
                "title": self.title,
                "category": self.category,
                "qty": self.qty,
                "unit_price_fen": self.unit_price_fen,
                "line_total_fen": self.unit_price_fen * self.qty,
                "designer_id": self.designer_id,
                "design_id": self.design_id,
                "partner_id": None,  # routed when the order is placed
                "digital": self.digital,
                "coupon_id": self.coupon_id,
                "booking": self.booking,
                "discount_fen": discount_fen,
            }
        )


class Quote(Model):
    subtotal_fen: int
    discount_fen: int = Field(default=0, description="what the coupon takes off (the sum of the lines' discount_fen)")
    coupon: Optional[str] = None
    min_points: int
    max_points: int
    points_applied: int
    cash_due_fen: int
    lines: list[OrderLine]


def split(
    lines: list[PricedLine],
    points: int,
    min_charge_fen: int,
    discounts: Optional[list[int]] = None,
    coupon: Optional[str] = None,
) -> Quote:
    """Check a points/cash split against the lines, less their `discounts` (fen per line, whole points), and
    return the quote it makes."""
    off = discounts or [0] * len(lines)
    subtotal = points_only = pointable = 0  # fen: all lines; net of discounts, lines paid in points only; in points
    for line, d in zip(lines, off, strict=False):
        subtotal += line.line_total_fen
        if not line.accepts_cash:
            points_only += line.line_total_fen - d
        if line.accepts_points:
            pointable += line.line_total_fen - d
    min_points, max_points = points_only // FEN_PER_POINT, pointable // FEN_PER_POINT
    bounds = {"min_points": min_points, "max_points": max_points, "points": points}
    if not min_points <= points <= max_points:
        raise InvalidPointsSplit(f"points must be between {min_points} and {max_points} for these items", bounds)
    due = subtotal - sum(off)
    cash = due - points * FEN_PER_POINT
    if 0 < cash < min_charge_fen:
        lower = (due - min_charge_fen) // FEN_PER_POINT
        higher = due // FEN_PER_POINT
        nearest = [p for p in (lower, higher) if min_points <= p <= max_points]
        remedy = (
            f"use {' or '.join(str(p) for p in nearest)} points"
            if nearest
            else "no points split avoids it for these items (their cash-only part is too small): add to the basket"
        )
        raise CashBelowMinimum(
            f"a cash part of {cash} fen is below the minimum charge of {min_charge_fen} fen; {remedy}",
            {**bounds, "cash_due_fen": cash, "min_charge_fen": min_charge_fen, "nearest_valid_points": nearest},
        )
    return Quote.trusted(  # computed here from typed values: as model_validate makes it (tests/unit/test_quote_made.py)
        {
            "subtotal_fen": subtotal,
            "discount_fen": sum(off),
            "coupon": coupon,
            "min_points": min_points,
            "max_points": max_points,
            "points_applied": points,
            "cash_due_fen": cash,
            "lines": [line.line(d) for line, d in zip(lines, off, strict=False)],
        }
    )


class SkuOffer(NamedTuple):
    """A SKU as checkout reads it: its price and stock with the product's rules (copied onto the SKU item). A named
    tuple: immutable, and built in a third of a frozen dataclass's time (every quote and order reads one per line)."""

    sku: str
    product_id: str
    title: str
    category: str
    status: str
    price_fen: int
    stock: int
    accepts_points: bool = True
    accepts_cash: bool = True
    owner_only: bool = False
    stay_date: str = ""  # hotel nights: the night's date (YYYY-MM-DD)
    min_tier: str = "fan"  # event tickets: the lowest tier that may register
    sale_ends_at: str = ""  # event tickets: registration closes when the event starts (ISO time)
    sale_starts_at: str = ""  # a limited drop: not sold before (ISO time, UTC)
    per_user_limit: Optional[int] = None  # a limited drop: units per user over all orders of the product
    kind: str = "physical"  # voucher: each unit is one of the SKU's codes; coupon: each unit a coupon
    coupon_id: Optional[str] = None  # a coupon product: the template its units are coupons of
    queued: int = 0  # event tickets: people waiting for a place, who get any place freed before newcomers
    stock_shards: int = 1  # > 1: the stock lives on that many shard items (a hot SKU); `stock` here is not it
    designer_id: Optional[str] = None
    design_id: Optional[str] = None
    terms_version: int = 0  # moves with every product write; the order's stock condition pins it
    resource: Optional[dict[str, Any]] = None  # a booking SKU: its resource's rules (hours, slots, capacity)


def price(
    items: Sequence[Union[LineRequest, BookingRequest]],
    skus: dict[str, SkuOffer],
    tier: str,
    today: str,
    now: str = "",
    tickets: bool = False,
    reserved: bool = False,
) -> list[PricedLine]:
    """The requested lines priced from the store on `today` (Shanghai) at `now` (ISO time), or the first rule that
    stops them. Event tickets are sold only through a registration (`tickets`), which keeps one per user and
    event; to anyone else they do not exist. `reserved`: the stock was set aside for this buyer already (a
    waitlist offer), so none is checked or taken."""
    unknown: list[str] = []  # one pass over the items; the checks below keep their order
    misbooked: list[str] = []
    vouchers: list[int] = []
    booked: list[int] = []
    coupons: list[int] = []
    for n, item in enumerate(items):
        offer = skus.get(item.sku)
        if offer is None or (offer.category == TICKET_CATEGORY) != tickets:
            unknown.append(item.sku)
        books = isinstance(item, BookingRequest)
        if offer is not None and (offer.category == BOOKING_CATEGORY) != books:
            misbooked.append(item.sku)
        if books:
            booked.append(n)
        if offer is not None and offer.kind in ("voucher", "coupon"):
            (vouchers if offer.kind == "voucher" else coupons).append(n)
    missing = unknown + misbooked
    if missing:
        raise NotFound(f"unknown sku {missing[0]!r}", {"skus": missing})
    # each voucher code is a write of the order's transaction
    if vouchers and sum(items[n].qty for n in vouchers) > MAX_VOUCHERS_PER_ORDER:
        raise InvalidRequest(
            f"at most {MAX_VOUCHERS_PER_ORDER} vouchers in one order",
            {"fields": {f"items.{n}.qty": f"at most {MAX_VOUCHERS_PER_ORDER} vouchers in all" for n in vouchers}},
        )
    # unpaid orders hold their slots: bound what one holds
    if booked and sum(items[n].qty for n in booked) > MAX_BOOKED_SLOTS:
        raise InvalidRequest(
            f"at most {MAX_BOOKED_SLOTS} slots in one order, over all its bookings",
            {"fields": {f"items.{n}.booking.slots": f"at most {MAX_BOOKED_SLOTS} slots in all" for n in booked}},
        )
    if coupons and len(coupons) < len(items):  # granted as the order is placed, which must then be paid
        raise InvalidRequest(
            "a coupon is bought in an order of its own, in points",
            {"fields": {f"items.{n}.sku": "a coupon: order it on its own" for n in coupons}},
        )
    if coupons and sum(items[n].qty for n in coupons) > MAX_COUPONS_PER_ORDER:
        raise InvalidRequest(
            f"at most {MAX_COUPONS_PER_ORDER} coupons in one order",
            {"fields": {f"items.{n}.qty": f"at most {MAX_COUPONS_PER_ORDER} coupons in all" for n in coupons}},
        )
    lines = [
        _priced(skus[item.sku], item.qty, tier, today, now, reserved, _booked(item, skus, now) if booked else None)
        for item in items
    ]
    for product_id, (qty, limit) in limited_units(lines, skus).items():
        if qty > limit:
            raise PurchaseLimit(
                f"at most {limit} of this product per person",
                {"product_id": product_id, "limit": limit, "requested": qty},
            )
    return lines


class CountedLine(Protocol):
    @property
    def sku(self) -> str: ...
    @property
    def product_id(self) -> str: ...
    @property
    def qty(self) -> int: ...


def limited_units(lines: Sequence[CountedLine], skus: dict[str, SkuOffer]) -> dict[str, tuple[int, int]]:
    """{product_id: (units in these lines, per-user limit)} for the products that have a limit."""
    units: dict[str, tuple[int, int]] = {}
    for line in lines:
        limit = skus[line.sku].per_user_limit
        if limit:
            units[line.product_id] = (units.get(line.product_id, (0, limit))[0] + line.qty, limit)
    return units


def _booked(item: Union[LineRequest, BookingRequest], skus: dict[str, SkuOffer], now: str) -> Optional[BookingDetail]:
    """A booking line's slots, or why it cannot take them (the rules load with the first booking, not with checkout)."""
    if not isinstance(item, BookingRequest):
        return None
    from chalicelib.domain.bookings import covered

    at = dt.datetime.fromisoformat(now.replace("Z", "+00:00")) if now else dt.datetime.now(dt.timezone.utc)
    return covered(skus[item.sku].resource or {}, item.booking, at)


def _priced(
    s: SkuOffer, qty: int, tier: str, today: str, now: str, reserved: bool, booking: Optional[BookingDetail] = None
) -> PricedLine:
    if s.status != "active":
        raise NotAvailable(f"{s.title!r} is not on sale", {"sku": s.sku})
    if s.category == "hotel" and s.stay_date < today:
        raise NotAvailable(f"the stay on {s.stay_date} is in the past", {"sku": s.sku, "date": s.stay_date})
    if s.sale_starts_at and now < s.sale_starts_at:
        raise NotYetOnSale(
            f"{s.title!r} goes on sale at {s.sale_starts_at}", {"sku": s.sku, "sale_starts_at": s.sale_starts_at}
        )
    if s.sale_ends_at and now >= s.sale_ends_at:
        raise NotAvailable(
            f"registration for {s.title!r} closed when it started", {"sku": s.sku, "closed_at": s.sale_ends_at}
        )
    if s.owner_only and tier != "owner":
        raise OwnerOnly(f"{s.title!r} is sold to verified vehicle owners only", {"sku": s.sku})
    if not tier_allows(tier, s.min_tier):
        raise TierTooLow(
            f"{s.title!r} is open to tier {s.min_tier} and above; yours is {tier}",
            {"min_tier": s.min_tier, "tier": tier},
        )
    available = 0 if s.queued > 0 else s.stock
    if s.stock_shards > 1 and s.queued == 0:
        available = qty  # the shards hold the stock: their own conditions decide (allocate, below)
    if available < qty and not reserved:
        raise InsufficientStock(f"only {available} of {s.title!r} left", {"sku": s.sku, "stock": available})
    return PricedLine(  # positional, in PricedLine's order (every line of every checkout is built here)
        s.sku,
        s.product_id,
        s.title,
        s.category,
        qty,
        s.price_fen,
        s.accepts_points,
        s.accepts_cash,
        s.owner_only,
        s.designer_id,
        s.design_id,
        s.kind in ("voucher", "coupon"),  # digital
        s.coupon_id if s.kind == "coupon" else None,
        booking,
    )


def needs_address(lines: list[OrderLine]) -> bool:
    return any(line.category not in ("hotel", TICKET_CATEGORY, BOOKING_CATEGORY) and not line.digital for line in lines)


def check_address(address: Optional[ShippingAddress], lines: list[OrderLine]) -> None:
    """An order with anything to ship has somewhere to ship it."""
    if address is None and needs_address(lines):
        raise InvalidRequest(
            "shipping_address is required unless every item is a hotel stay, a booking or digital",
            {"fields": {"shipping_address": "required"}},
        )


def check_expected(quote: Quote, expected: Optional[ExpectedQuote]) -> None:
    """The order is placed only at the numbers the shopper saw, when the app sends them."""
    if expected is None:
        return
    if (quote.cash_due_fen, quote.points_applied) != (expected.cash_due_fen, expected.points):
        raise PriceChanged(
            "the price changed since you saw it; review the new total",
            {
                "expected": expected.model_dump(),
                "cash_due_fen": quote.cash_due_fen,
                "points": quote.points_applied,
                "subtotal_fen": quote.subtotal_fen,
            },
        )


def home_shard(user_id: str, sku: str, shards: int) -> int:
    """The shard a buyer takes from first: spread by buyer, the same one each time for the same buyer."""
    return int(hashlib.sha256(f"{user_id}|{sku}".encode()).hexdigest()[:8], 16) % shards


def allocate(stock_by_shard: dict[int, int], qty: int, home: int) -> Optional[list[list[int]]]:
    """Where `qty` units come from: the home shard if it has them, else the fullest shards first; None if all
    the shards together do not have them."""
    if stock_by_shard.get(home, 0) >= qty:
        return [[home, qty]]
    taken: list[list[int]] = []
    for shard, stock in sorted(stock_by_shard.items(), key=lambda kv: (-kv[1], kv[0])):
        if qty == 0:
            break
        if stock > 0:
            take = min(stock, qty)
            taken.append([shard, take])
            qty -= take
    return taken if qty == 0 else None
