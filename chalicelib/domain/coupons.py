"""Coupons: templates a merchandiser defines, coupons a user holds (granted, or bought with points), and the
discount one takes off an order: checked against the order's lines, allocated to the eligible lines in exact fen."""

import datetime as dt
from typing import Annotated, Any, Literal, Optional, Protocol, Sequence

from pydantic import Field, StringConstraints, field_validator, model_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.catalog import MAX_PRICE_FEN, CategoryId, CouponId, ShortText
from chalicelib.domain.errors import CouponNotApplicable
from chalicelib.domain.money import FEN_PER_POINT
from chalicelib.domain.points import Ref, UserId

UserCouponId = Annotated[str, StringConstraints(pattern=r"^uc-[a-z0-9-]{8,64}$")]
MAX_BUDGET_COUNT = 1_000_000
MAX_COUPON_PER_USER = 100
MAX_VALID_DAYS = 366
BUDGET_PER_SHARD = 250  # a template's budget is spread over shard items of about this many coupons each
MAX_BUDGET_SHARDS = 16  # so a coupon bought or granted by thousands at once does not write one item
MAX_COUPONS_PER_ORDER = 10  # coupons one order may buy (each is its own write in the order's transaction)
UserCouponStatus = Literal["available", "used", "expired", "revoked"]


class CouponInput(Strict):
    coupon_id: CouponId
    title: ShortText
    title_zh: Optional[ShortText] = None
    amount_off_fen: Optional[int] = Field(
        default=None,
        ge=10,
        le=MAX_PRICE_FEN,
        multiple_of=10,
        description="fen off the eligible lines (at most their total)",
    )
    percent_off: Optional[int] = Field(
        default=None, ge=1, le=100, description="percent off the eligible lines, rounded down to whole points"
    )
    min_subtotal_fen: int = Field(
        default=0, ge=0, le=MAX_PRICE_FEN, description="the eligible lines must add up to at least this"
    )
    categories: Optional[list[CategoryId]] = Field(
        default=None, min_length=1, max_length=8, description="lines of these categories only (null: any)"
    )
    valid_days: int = Field(
        ge=1, le=MAX_VALID_DAYS, description="a coupon may be used this many days after it was granted or bought"
    )
    budget_count: int = Field(ge=1, le=MAX_BUDGET_COUNT, description="coupons issued at most, granted and bought")
    per_user_limit: int = Field(
        default=1, ge=1, le=MAX_COUPON_PER_USER, description="coupons of this template one user may receive, ever"
    )

    @field_validator("categories")
    @classmethod
    def _distinct(cls, categories: Optional[list[str]]) -> Optional[list[str]]:
        if categories is not None and len(set(categories)) != len(categories):
            raise ValueError("each category may appear once")
        return categories

    @model_validator(mode="after")
    def _one_kind_of_discount(self) -> "CouponInput":
        if (self.amount_off_fen is None) == (self.percent_off is None):
            raise ValueError("give either amount_off_fen or percent_off")
        return self


class CouponTerms(Model):
    """What a coupon takes off and where (a template's, copied onto every coupon issued from it)."""

    coupon_id: str
    title: str
    title_zh: Optional[str] = None
    amount_off_fen: Optional[int] = None
    percent_off: Optional[int] = None
    min_subtotal_fen: int
    categories: Optional[list[str]] = None


class Coupon(CouponTerms):
    """A template as merchandisers see it."""

    valid_days: int
    budget_count: int
    per_user_limit: int
    issued: int = Field(description="coupons granted or bought so far")
    left: int = Field(description="coupons that may still be issued (budget_count - issued)")
    created_at: str
    created_by: str


class CouponPage(Model):
    items: list[Coupon]
    next_cursor: Optional[str]


class CouponGrantInput(Strict):
    user_id: UserId
    ref: Ref = Field(description="your reference: the same ref returns the first grant, never a second coupon")


class UserCoupon(CouponTerms):
    """A coupon a user holds: the template's terms (`coupon_id` names it) as they were when it was issued."""

    coupon: str = Field(description="this coupon's id: send it as `coupon` in a quote or an order")
    user_id: str
    source: Literal["grant", "purchase"]
    bought_with: Optional[str] = Field(default=None, description="the order that bought it (source purchase)")
    issued_at: str
    expires_at: str
    status: UserCouponStatus = Field(description="revoked: the order that bought it was cancelled or refunded")
    order_id: Optional[str] = Field(default=None, description="the order using it")


class UserCouponPage(Model):
    items: list[UserCoupon]
    next_cursor: Optional[str]


TERMS = tuple(CouponTerms.model_fields)


def issued_coupon(
    template: dict[str, Any], coupon: str, user_id: str, source: str, ref: str, at: dt.datetime, at_iso: str
) -> dict[str, Any]:
    """A coupon issued from `template` now (`at`): its terms copied, valid for the template's days."""
    expires = at + dt.timedelta(days=template["valid_days"])
    return {
        "coupon": coupon,
        "user_id": user_id,
        **{k: template.get(k) for k in TERMS},
        "source": source,
        "ref": ref,
        "issued_at": at_iso,
        "expires_at": expires.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def status_of(coupon: dict[str, Any], now_iso: str) -> UserCouponStatus:
    if coupon.get("revoked_at"):
        return "revoked"
    if coupon.get("order_id"):
        return "used"
    return "expired" if coupon["expires_at"] <= now_iso else "available"


def budget_shards(budget_count: int) -> int:
    return max(1, min(MAX_BUDGET_SHARDS, -(-budget_count // BUDGET_PER_SHARD)))


class Discountable(Protocol):
    """What a coupon looks at in an order line."""

    @property
    def category(self) -> str: ...
    @property
    def line_total_fen(self) -> int: ...
    @property
    def buys_coupon(self) -> bool: ...


def discount(coupon: dict[str, Any], lines: Sequence[Discountable], now_iso: str) -> list[int]:
    """The fen each line is discounted by `coupon` (a coupon as stored), or the reason it does not apply, naming the
    field `coupon`: usable now, then its terms applied to the lines."""
    check_usable(coupon, lines, now_iso)
    stored: dict[str, Any] = {k: coupon.get(k) for k in TERMS}
    terms = CouponTerms.model_construct(**stored)  # as stored: validated when the coupon was issued
    return terms_discount(terms, coupon["coupon"], lines)


def _refusal(coupon: str, reason: str, message: str, **details: Any) -> CouponNotApplicable:
    return CouponNotApplicable(message, {"fields": {"coupon": message}, "reason": reason, "coupon": coupon, **details})


def check_usable(coupon: dict[str, Any], lines: Sequence[Discountable], now_iso: str) -> None:
    """Not revoked, not used, not expired, and not spent on buying coupons."""
    cid = coupon["coupon"]
    if coupon.get("revoked_at"):
        raise _refusal(cid, "revoked", "this coupon was taken back: the order that bought it was cancelled or refunded")
    if coupon.get("order_id"):
        raise _refusal(cid, "used", "this coupon was used already", order_id=coupon["order_id"])
    if coupon["expires_at"] <= now_iso:
        expires = coupon["expires_at"]
        raise _refusal(cid, "expired", f"this coupon expired at {expires}", expires_at=expires)
    if any(line.buys_coupon for line in lines):
        raise _refusal(cid, "categories", "a coupon does not buy coupons")


def terms_discount(terms: CouponTerms, coupon: str, lines: Sequence[Discountable]) -> list[int]:
    """What `terms` take off each line: in whole points (multiples of 10 fen, so every line's points price stays
    whole), at most the eligible lines' total, allocated to them in proportion to their totals."""
    allowed = terms.categories
    eligible = [n for n, line in enumerate(lines) if allowed is None or line.category in allowed]
    if not eligible:
        raise _refusal(coupon, "categories", f"this coupon is for {', '.join(allowed or [])} only", categories=allowed)
    base = sum(lines[n].line_total_fen for n in eligible)
    if base < terms.min_subtotal_fen:
        raise _refusal(
            coupon,
            "below_minimum",
            f"this coupon needs {terms.min_subtotal_fen} fen of eligible items; these come to {base}",
            min_subtotal_fen=terms.min_subtotal_fen,
            eligible_subtotal_fen=base,
        )
    off = min(terms.amount_off_fen, base) if terms.amount_off_fen else base * (terms.percent_off or 0) // 100
    points = off // FEN_PER_POINT
    if points == 0:
        message = "this coupon takes nothing off these items (under one point)"
        raise _refusal(coupon, "below_minimum", message, eligible_subtotal_fen=base)
    shares = allocate(points, {n: lines[n].line_total_fen for n in eligible})
    return [shares.get(n, 0) * FEN_PER_POINT for n in range(len(lines))]


def allocate(points: int, totals: dict[int, int]) -> dict[int, int]:
    """`points` spread over lines in proportion to their totals (fen), the odd points to the largest remainders
    (the earlier line on a tie): the parts add up exactly to `points`."""
    base = sum(totals.values())
    shares = {n: points * total // base for n, total in totals.items()}
    rest = points - sum(shares.values())
    by_remainder = sorted(totals, key=lambda n: (-(points * totals[n] % base), n))
    for n in by_remainder[:rest]:
        shares[n] += 1
    return shares
