"""Reviews from verified buyers (种草): who may review what, and the product's rating from shard sums.

A buyer reviews a line of a product in their own order once the line has reached them: shipped (a parcel), or
paid for a voucher line (its codes were shown; a coupon line can be cancelled after payment, so it is not). Once per order line. Merchandisers approve or reject (a
rejection says why); an approved review counts in the product's rating, kept on RATING_SHARDS items so that a
bestseller's approvals never queue on one item; a refund of the order takes the review out of the rating
(the review is kept, marked)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal, Mapping, Optional, Sequence

from pydantic import Field, StringConstraints

from chalicelib.domain.base import Model, PageQuery, Strict
from chalicelib.domain.designs import Decision as Decision  # the same decision: approve, or reject with a note
from chalicelib.domain.errors import NotABuyer
from chalicelib.domain.orders import Order
from chalicelib.domain.search import Rating, rating_of
from chalicelib.domain.text import HttpsUrl, Paragraphs

ReviewStatus = Literal["pending", "approved", "rejected"]
RATING_SHARDS = 8  # a product's approved ratings are summed on this many items (a bestseller's approvals spread)
REVIEW_CONTRIBUTION = 2  # what an approved review adds to its author's contribution score (DESIGN §5)
REACHED = {"shipped", "partially_shipped", "paid"}  # statuses in which some line may have reached the buyer


class ReviewInput(Strict):
    order_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    sku: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    rating: int = Field(ge=1, le=5)
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Paragraphs]
    image_urls: list[HttpsUrl] = Field(default_factory=list, max_length=8)


class Review(Model):
    review_id: str
    product_id: str
    sku: str
    order_id: Optional[str] = Field(default=None, description="the author and merchandisers only")
    user_id: Optional[str] = Field(default=None, description="the author and merchandisers only")
    reviewer_name: str = Field(description="the name the public sees (never the user id)")
    rating: int
    text: str
    image_urls: list[str]
    status: ReviewStatus
    note: Optional[str] = Field(default=None, description="why it was rejected (the author reads it)")
    helpful: int = Field(default=0, description="people who found it helpful")
    excluded: bool = Field(default=False, description="its order was refunded: kept, but out of the rating")
    created_at: str
    decided_at: Optional[str] = None


class ReviewPage(Model):
    items: list[Review]
    next_cursor: Optional[str]


class ProductReviews(Model):
    rating: Rating
    items: list[Review]
    next_cursor: Optional[str]


class Helpful(Model):
    review_id: str
    helpful: int


class ProductReviewQuery(Model):
    sort: Literal["new", "helpful"] = Field(default="new", description="helpful: most found helpful first")
    limit: int = Field(default=20, ge=1, le=50)
    cursor: Optional[str] = Field(default=None, max_length=2048)


class QueueQuery(PageQuery):
    status: ReviewStatus = "pending"


def reviewable_line(order: Optional[Order], user_id: str, product_id: str, sku: str) -> None:
    """NotABuyer (403) unless `user_id` bought `sku` of `product_id` in this order and it has reached them."""
    line = next((ln for ln in order.lines if ln.sku == sku), None) if order and order.user_id == user_id else None
    reached = (
        order is not None
        and line is not None
        and line.product_id == product_id
        and line.booking is None
        and order.status in REACHED
        and (line.sku in order.shipped_skus or line.is_voucher)
    )
    if not reached:
        raise NotABuyer(
            "only a buyer can review a product, once the line has reached them (shipped; paid for a voucher line)",
            {"order_id": order.order_id if order else None, "sku": sku},
        )


def shard_of(review_id: str) -> int:
    return int(hashlib.sha256(review_id.encode()).hexdigest()[:8], 16) % RATING_SHARDS


def shard_sums(shards: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """(Σ ratings, number of ratings) over a product's rating shards."""
    return sum(int(s.get("sum", 0)) for s in shards), sum(int(s.get("count", 0)) for s in shards)


def rating(shards: Sequence[Mapping[str, Any]]) -> Rating:
    """The product's rating from its shard sums (the search's rule: one decimal, half up)."""
    return rating_of(*shard_sums(shards))
