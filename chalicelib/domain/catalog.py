"""The catalog: eight categories, products with SKUs, and the rules a product must obey."""

import datetime as dt
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.money import points_price
from chalicelib.domain.text import HttpsUrl, OneLine, Paragraphs

CategoryId = Literal["food", "apparel", "travel", "tech", "home", "car-life", "models-toys", "hotel"]

CATEGORIES: dict[str, tuple[str, str]] = {
    "food": ("Food", "美食"),
    "apparel": ("Apparel & accessories", "服饰配饰"),
    "travel": ("Travel & luggage", "旅行箱包"),
    "tech": ("Tech", "科技产品"),
    "home": ("Home", "家居"),
    "car-life": ("Car life", "车生活"),
    "models-toys": ("Models & toys", "车模玩具"),
    "hotel": ("Hotel experiences", "酒店体验"),
}

ProductStatus = Literal["draft", "active", "archived"]
ProductKind = Literal["physical", "voucher", "coupon"]
CouponId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")]
MAX_VOUCHERS_PER_ORDER = 10  # codes one order may take (each is its own write in the order's transaction)
MAX_CODES_PER_UPLOAD = 1_000


def _printable(code: str) -> str:
    if not all("!" <= ch <= "~" for ch in code):
        raise ValueError("a code is printable ASCII without spaces (letters, digits and punctuation)")
    return code


VoucherCode = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_printable)]

# Which status a merchandiser action may start from.
PUBLISHABLE_FROM = ("draft", "archived")
ARCHIVABLE_FROM = ("draft", "active")

ProductId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")]
SkuId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), OneLine]
AttrKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
AttrValue = Annotated[str, StringConstraints(min_length=1, max_length=64), OneLine]
Tag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]

MAX_PRICE_FEN = 100_000_000  # ¥1,000,000
MAX_STOCK = 1_000_000
MAX_SKUS = 50
MAX_STOCK_SHARDS = 32  # a hot SKU's stock over at most this many shard items (each ~500 orders/s on AWS)
MAX_PER_USER_LIMIT = 999


class Accepts(Strict):
    points: bool = True
    cash: bool = True

    @model_validator(mode="after")
    def _one_way_to_pay(self) -> "Accepts":
        if not (self.points or self.cash):
            raise ValueError("a product must accept points, cash or both")
        return self


class SkuInput(Strict):
    sku: SkuId
    attributes: dict[AttrKey, AttrValue] = Field(default_factory=dict, max_length=10)
    price_fen: int = Field(ge=10, le=MAX_PRICE_FEN, multiple_of=10)
    stock: int = Field(default=0, ge=0, le=MAX_STOCK)
    stock_shards: int = Field(
        default=1,
        ge=1,
        le=MAX_STOCK_SHARDS,
        description="a hot SKU (a limited drop): its stock on this many items, so thousands of "
        "buyers at once do not all write one (infra/README.md)",
    )
    # Read-only (price_fen / 10); accepted when it agrees, so a SKU read from the API can be sent back.
    points_price: Optional[int] = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _points_price_is_derived(self) -> "SkuInput":
        if self.points_price is not None and self.points_price != self.price_fen // 10:
            raise ValueError("points_price is derived from price_fen (price_fen / 10); leave it out")
        return self


class ProductInput(Strict):
    """What a merchandiser (or a catalog file) says about a product."""

    product_id: Optional[ProductId] = None
    category: CategoryId
    title: ShortText
    title_zh: ShortText
    description: Annotated[str, StringConstraints(max_length=4000), Paragraphs] = ""
    status: Literal["draft", "active"] = "draft"
    kind: ProductKind = Field(
        default="physical",
        description="voucher: each unit is a code from the SKU's "
        "uploaded codes, shown in the paid order; coupon: each unit grants the buyer a coupon "
        "of `coupon_id`; neither is shipped",
    )
    coupon_id: Optional[CouponId] = Field(
        default=None, description="kind coupon: the coupon template (POST /admin/coupons) each unit grants"
    )
    owner_only: bool = False
    accepts: Accepts = Field(default_factory=Accepts)
    skus: list[SkuInput] = Field(min_length=1, max_length=MAX_SKUS)
    images: list[HttpsUrl] = Field(default_factory=list, max_length=10)
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    sale_starts_at: Optional[dt.datetime] = Field(
        default=None,
        description="a limited drop: orders before this time are refused (409 not_yet_on_sale); shown publicly before",
    )
    per_user_limit: Optional[int] = Field(
        default=None, ge=1, le=MAX_PER_USER_LIMIT, description="units one user may buy over all their orders (all SKUs)"
    )

    @field_validator("sale_starts_at")
    @classmethod
    def _zoned(cls, value: Optional[dt.datetime]) -> Optional[dt.datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-12T10:00:00+08:00")
        try:
            return value.astimezone(dt.timezone.utc)
        except OverflowError:
            raise ValueError("is out of range") from None

    @field_validator("skus")
    @classmethod
    def _unique_skus(cls, skus: list[SkuInput]) -> list[SkuInput]:
        seen: set[str] = set()
        for item in skus:
            if item.sku in seen:
                raise ValueError(f"sku {item.sku!r} appears twice")
            seen.add(item.sku)
        return skus

    @model_validator(mode="after")
    def _vouchers_are_stocked_by_codes(self) -> "ProductInput":
        if self.kind != "voucher":
            return self
        if self.category == "hotel":
            raise ValueError("a hotel night is not a voucher")
        for item in self.skus:
            if item.stock_shards != 1 or (item.stock and type(self) is ProductInput):  # a PUT keeps a SKU's stock
                raise ValueError(
                    f"voucher sku {item.sku!r}: its stock is its uploaded codes (POST /admin/skus/"
                    f"{item.sku}/codes), so give neither stock nor stock_shards"
                )
        return self

    @model_validator(mode="after")
    def _coupons_name_a_template(self) -> "ProductInput":
        if (self.kind == "coupon") != (self.coupon_id is not None):
            raise ValueError("a product of kind coupon names its coupon_id, and only it does")
        if self.kind == "coupon" and (self.accepts.cash or self.category == "hotel"):
            raise ValueError(
                "a coupon is bought with points only: set accepts.cash to false (and it is not a hotel night)"
            )
        return self

    @model_validator(mode="after")
    def _hotel_slots_are_dated(self) -> "ProductInput":
        if self.category != "hotel":
            return self
        for item in self.skus:
            date = item.attributes.get("date", "")
            try:
                dt.date.fromisoformat(date)
            except ValueError:
                raise ValueError(f"hotel sku {item.sku!r} needs attributes.date as YYYY-MM-DD") from None
            if len(date) != 10:
                raise ValueError(f"hotel sku {item.sku!r} needs attributes.date as YYYY-MM-DD")
        return self


class ProductUpdate(ProductInput):
    """A full replacement of a product's editable fields; status moves by publish/archive only.

    `stock` of a SKU that already exists is left as it is (change it through the stock endpoint,
    which records a reason); it sets the starting stock of a SKU the update adds.
    """

    # Narrowed on purpose: an update names neither (the path names the product; status has its own routes).
    product_id: None = Field(default=None, exclude=True)
    status: None = Field(default=None, exclude=True)  # type: ignore[assignment]


class Sku(Model):
    sku: str
    attributes: dict[str, str]
    price_fen: int
    points_price: int
    stock: int = Field(description="units left (the exact sum over its shards when it has several)")
    stock_shards: int = 1


class Product(Model):
    product_id: str
    category: CategoryId
    title: str
    title_zh: str
    description: str
    status: ProductStatus
    kind: ProductKind = "physical"
    coupon_id: Optional[str] = None
    owner_only: bool
    accepts: Accepts
    skus: list[Sku]
    designer_id: Optional[str] = Field(default=None, description="merchandisers only; the public sees designer_name")
    designer_name: Optional[str] = Field(default=None, description="the designer's public display name")
    design_id: Optional[str] = None
    images: list[str]
    tags: list[str]
    sale_starts_at: Optional[str] = None
    per_user_limit: Optional[int] = None
    created_at: str
    updated_at: str
    published_at: Optional[str] = Field(default=None, description="when it was first published (sort `new`)")


class ProductPage(Model):
    items: list[Product]
    next_cursor: Optional[str]


class Category(Model):
    id: CategoryId
    name: str
    name_zh: str
    product_count: int


class CategoryList(Model):
    items: list[Category]


class StockAdjustment(Strict):
    delta: int = Field(ge=-MAX_STOCK, le=MAX_STOCK)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, delta: int) -> int:
        if delta == 0:
            raise ValueError("delta must not be 0")
        return delta


class CodeUpload(Strict):
    codes: list[VoucherCode] = Field(
        min_length=1,
        max_length=MAX_CODES_PER_UPLOAD,
        description="printable ASCII without spaces, 1-64 characters each",
    )


class CodesAdded(Model):
    added: int = Field(description="codes new to this SKU, now for sale")
    duplicates: int = Field(description="codes given twice in the call, or that the SKU had already")
    available: int = Field(description="codes not yet sold (the SKU's stock)")


class SkuStock(Model):
    sku: str
    stock: int


def sku_view(sku: SkuInput | dict[str, Any], stock: int) -> Sku:
    data = sku if isinstance(sku, dict) else sku.model_dump()
    return Sku(
        sku=data["sku"],
        attributes=data.get("attributes", {}),
        price_fen=data["price_fen"],
        points_price=points_price(data["price_fen"]),
        stock=stock,
        stock_shards=data.get("stock_shards", 1),
    )


def spread(total: int, shards: int) -> list[int]:
    """`total` units over `shards` shard items, as evenly as whole units go (the first ones get one more)."""
    share, extra = divmod(total, shards)
    return [share + (i < extra) for i in range(shards)]


def restock(shards: dict[int, int], delta: int) -> Optional[dict[int, int]]:
    """Each shard's stock after a merchandiser's change of `delta` units: added to the emptiest shards until they
    level out, or taken from the fullest; None when the shards together hold less than -delta."""
    if delta < 0 and sum(shards.values()) < -delta:
        return None

    def level(fits: Any, high: int) -> int:  # the last level (binary search) for which `fits` holds
        low = 0
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if fits(mid) else (low, mid - 1)
        return low

    if delta > 0:  # raise the emptiest to level L, the rest of the units one each to those at L
        top = level(lambda h: sum(max(0, h - s) for s in shards.values()) <= delta, max(shards.values()) + delta)
        after = {k: max(s, top) for k, s in shards.items()}
        at_top = sorted(k for k, s in after.items() if s == top)
        for k in at_top[: delta - sum(after[k] - shards[k] for k in shards)]:
            after[k] += 1
        return after
    take = -delta  # cut the fullest down to level L, the rest of the units one each from those at L
    cap = max(shards.values())
    floor = cap - level(lambda d: sum(max(0, s - (cap - d)) for s in shards.values()) <= take, cap)
    after = {k: min(s, floor) for k, s in shards.items()}
    at_floor = sorted(k for k, s in after.items() if s == floor and s > 0)
    for k in at_floor[: take - sum(shards[k] - after[k] for k in shards)]:
        after[k] -= 1
    return after
