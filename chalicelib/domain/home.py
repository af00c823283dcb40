"""The store tab's home: banners and collections merchandisers curate (each with a position and a publish window,
collections for everyone or owners only), and the rules of what a shopper sees of them now."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.catalog import ProductId, ShortText
from chalicelib.domain.search import Listed
from chalicelib.domain.text import HttpsUrl

CuratedId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")]
MAX_COLLECTIONS = 50  # kept, live or not
MAX_BANNERS = 20
HOME_COLLECTIONS = 8  # live collections the home shows (by position)
HOME_ITEMS = 12  # products a home collection, new arrivals and popular show


def _link(value: str) -> str:
    if value.startswith("/") and not value.startswith("//"):
        if len(value) > 300 or any(ch.isspace() or ord(ch) < 33 or ch == "\\" for ch in value):
            raise ValueError("an app path has no spaces, backslashes or control characters (at most 300 characters)")
        return value
    if not value.startswith("https://"):
        raise ValueError("an https:// URL or an app path such as /products/car-dual-dashcam")
    return value


Link = Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_link)]


class _Window(Strict):
    position: int = Field(default=0, ge=0, le=999, description="the home shows lower positions first")
    starts_at: Optional[dt.datetime] = Field(default=None, description="shown from then (default: at once)")
    ends_at: Optional[dt.datetime] = Field(default=None, description="shown until then (default: until removed)")

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _zoned(cls, value: Optional[dt.datetime]) -> Optional[dt.datetime]:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-12T10:00:00+08:00")
        return value.astimezone(dt.timezone.utc) if value is not None else None

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> "_Window":
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class CollectionInput(_Window):
    collection_id: CuratedId
    title: ShortText
    title_zh: ShortText
    product_ids: list[ProductId] = Field(min_length=1, max_length=100, description="in the order shown")
    audience: Literal["all", "owners"] = "all"

    @field_validator("product_ids")
    @classmethod
    def _once_each(cls, ids: list[str]) -> list[str]:
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"each product once: {', '.join(twice)} twice")
        return ids


class CollectionUpdate(CollectionInput):
    collection_id: None = Field(default=None, exclude=True)  # type: ignore[assignment]  # the path names it


class BannerInput(_Window):
    banner_id: CuratedId
    title: ShortText
    title_zh: ShortText
    image_url: HttpsUrl
    link: Link


class BannerUpdate(BannerInput):
    banner_id: None = Field(default=None, exclude=True)  # type: ignore[assignment]


class Collection(Model):
    collection_id: str
    title: str
    title_zh: str
    product_ids: list[str]
    position: int
    audience: Literal["all", "owners"]
    starts_at: Optional[str] = None
    ends_at: Optional[str] = None
    created_at: str
    updated_at: str


class Banner(Model):
    banner_id: str
    title: str
    title_zh: str
    image_url: str
    link: str
    position: int
    starts_at: Optional[str] = None
    ends_at: Optional[str] = None
    created_at: str
    updated_at: str


class CollectionList(Model):
    items: list[Collection]


class BannerList(Model):
    items: list[Banner]


class HomeBanner(Model):
    banner_id: str
    title: str
    title_zh: str
    image_url: str
    link: str


class HomeCollection(Model):
    collection_id: str
    title: str
    title_zh: str
    items: list[Listed]


class Home(Model):
    banners: list[HomeBanner]
    collections: list[HomeCollection]
    new_arrivals: list[Listed]
    popular: list[Listed]


class PreviewQuery(Model):
    as_: Literal["fan", "owner"] = Field(default="fan", alias="as", description="whose home: a fan's or an owner's")


def live(entries: list[dict[str, Any]], now: str, owner: bool) -> list[dict[str, Any]]:
    """What the home shows now, lowest position first: inside its window, and an owners' collection to owners only."""
    shown = [
        e
        for e in entries
        if (not e.get("starts_at") or e["starts_at"] <= now)
        and (not e.get("ends_at") or now < e["ends_at"])
        and (e.get("audience", "all") == "all" or owner)
    ]
    return sorted(shown, key=lambda e: (e.get("position", 0), e.get("collection_id") or e.get("banner_id") or ""))


def most_sold(units: dict[str, int], n: int) -> list[str]:
    """The `n` products sold most (ties: product id), none with nothing sold."""
    return [p for p, u in sorted(units.items(), key=lambda pu: (-pu[1], pu[0])) if u > 0][:n]
