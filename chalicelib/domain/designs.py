"""Co-design (the Blue Sky Lab loop): submissions, votes, review, productization, royalties."""

from fractions import Fraction
from typing import Annotated, Literal, Optional

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from chalicelib.domain.base import Model, PageQuery, Strict
from chalicelib.domain.catalog import MAX_PRICE_FEN, CategoryId
from chalicelib.domain.money import FEN_PER_POINT
from chalicelib.domain.text import HttpsUrl, OneLine, Paragraphs

DesignStatus = Literal["submitted", "approved", "rejected", "productized"]
PUBLIC_STATUSES = ("approved", "productized")
MAX_OPEN_DESIGNS = 10


def royalty_points(line_total_fen: int, rate: str) -> int:
    """floor(line_total_fen / 10 × rate), computed exactly (no float rounding)."""
    return int(Fraction(line_total_fen, FEN_PER_POINT) * Fraction(rate)) if line_total_fen > 0 else 0


class DesignInput(Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), OneLine]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Paragraphs]
    category: CategoryId
    image_urls: list[HttpsUrl] = Field(min_length=1, max_length=8)
    proposed_price_fen: Optional[int] = Field(default=None, ge=10, le=MAX_PRICE_FEN, multiple_of=10)


class Decision(Strict):
    decision: Literal["approve", "reject"]
    note: Optional[Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), Paragraphs]] = Field(
        default=None, validate_default=True, description="required to reject: the designer reads it"
    )

    @field_validator("note")
    @classmethod
    def _reject_says_why(cls, note: Optional[str], info: ValidationInfo) -> Optional[str]:
        if info.data.get("decision") == "reject" and not note:
            raise ValueError("a rejection needs a note for the designer")
        return note


class Design(Model):
    design_id: str
    designer_id: Optional[str] = Field(
        default=None, description="the designer and merchandisers only; the public gallery shows designer_name"
    )
    designer_name: Optional[str] = None
    title: str
    description: str
    category: CategoryId
    image_urls: list[str]
    proposed_price_fen: Optional[int] = None
    status: DesignStatus
    votes: int = Field(default=0, description="people who voted")
    score: int = Field(default=0, description="the votes weighed by each voter's contribution when they voted")
    note: Optional[str] = None
    product_id: Optional[str] = None
    units_sold: int = 0
    royalty_points: int = Field(default=0, description="credited: the return window of those sales has closed")
    royalty_points_pending: int = Field(default=0, description="owed on sales whose return window is still open")
    created_at: str
    updated_at: str


class DesignPage(Model):
    items: list[Design]
    next_cursor: Optional[str]


class Vote(Model):
    design_id: str
    votes: int = Field(description="people who voted, with you")
    score: int = Field(description="weighted score, with your vote")
    weight: int = Field(description="what your vote counts for (your contribution decides it)")


class GalleryQuery(PageQuery):
    category: Optional[CategoryId] = None
    sort: Literal["newest", "score"] = Field(
        default="newest", description="score: highest weighted score first (ties: newest first)"
    )


class DesignReviewQuery(PageQuery):
    status: DesignStatus = "submitted"
