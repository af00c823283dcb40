"""Community events (社区活动): official and user-hosted, with a capacity, a fee and a tier threshold.

A registration is an order of the event's ticket: the ticket is a SKU whose stock is the places left, priced at
the fee, so registering is checkout (points, points + cash, cash, free), with its holds, payments, expiry, cancel
and refund, and capacity is the stock condition of the order's transaction.
"""

import datetime as dt
import hashlib
import hmac
from fractions import Fraction
from typing import Annotated, Any, Literal, Optional

from pydantic import Field, StringConstraints, model_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.catalog import MAX_PRICE_FEN, Accepts
from chalicelib.domain.money import FEN_PER_POINT
from chalicelib.domain.orders import Payment
from chalicelib.domain.points import Tier
from chalicelib.domain.text import OneLine, Paragraphs

EventStatus = Literal["draft", "submitted", "published", "rejected", "cancelled"]
RegistrationStatus = Literal[
    "waitlisted", "offered", "lapsed", "withdrawn", "pending_payment", "confirmed", "cancelled", "expired", "refunded"
]
QUEUE_STATUS: dict[str, RegistrationStatus] = {
    "waiting": "waitlisted",
    "offered": "offered",
    "lapsed": "lapsed",
    "withdrawn": "withdrawn",
}
TICKET_CATEGORY = "event"  # the category of a ticket's order line: no partner ships it, no address needed
MAX_CAPACITY = 10_000
MAX_ATTENDEES = 4
MAX_EVENT_DAYS = 14  # an event lasts at most this long; the public listing relies on it
CHECKIN_OPENS = dt.timedelta(hours=2)  # before the start
DEFAULT_CANCEL_BEFORE = dt.timedelta(hours=24)
TIER_RANK = {"fan": 0, "deposit": 1, "owner": 2}

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), OneLine]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), OneLine]
City = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), OneLine]


def ticket_sku(event_id: str) -> str:
    return f"TICKET-{event_id}"


def event_of_sku(sku: str) -> Optional[str]:
    return sku.removeprefix("TICKET-") if sku.startswith("TICKET-") else None


class EventInput(Strict):
    title: Title
    title_zh: Title
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), Paragraphs]
    city: City
    venue: Place
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int = Field(ge=1, le=MAX_CAPACITY)
    min_tier: Tier = "fan"
    fee_fen: int = Field(default=0, ge=0, le=MAX_PRICE_FEN, multiple_of=10)
    accepts: Accepts = Field(default_factory=Accepts)
    cancel_until: Optional[dt.datetime] = Field(default=None, description="default: 24 hours before the start")

    @model_validator(mode="after")
    def _times_make_sense(self) -> "EventInput":
        for name in ("starts_at", "ends_at", "cancel_until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} needs a time zone, e.g. 2026-12-20T19:00:00+08:00")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.ends_at - self.starts_at > dt.timedelta(days=MAX_EVENT_DAYS):
            raise ValueError(f"an event lasts at most {MAX_EVENT_DAYS} days")
        if self.cancel_until is not None and self.cancel_until > self.starts_at:
            raise ValueError("cancel_until must not be after starts_at")
        return self


class AdminEventInput(EventInput):
    status: Literal["draft", "published"] = "published"


class EventDecision(Strict):
    decision: Literal["approve", "reject"]
    note: Optional[Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), Paragraphs]] = None

    @model_validator(mode="after")
    def _reject_says_why(self) -> "EventDecision":
        if self.decision == "reject" and not self.note:
            raise ValueError("a rejection needs a note for the host")
        return self


class CommunityEvent(Model):
    event_id: str
    host_id: Optional[str] = Field(default=None, description="the hosting user; null for an official event")
    official: bool
    status: EventStatus
    title: str
    title_zh: str
    description: str
    city: str
    venue: str
    starts_at: str
    ends_at: str
    cancel_until: str
    capacity: int
    registered: int = Field(
        description="places taken: confirmed registrations, those awaiting payment, and open waitlist offers"
    )
    places_left: int
    waitlisted: int = Field(description="people waiting in the queue")
    min_tier: Tier
    fee_fen: int
    points_price: int = Field(description="the fee in points (fee_fen / 10)")
    accepts: Accepts
    note: Optional[str] = None
    reward_status: Optional[Literal["credited", "budget_exhausted"]] = Field(
        default=None, description="user-hosted events, after they end: the host's reward"
    )
    reward_points: Optional[int] = None
    created_at: str
    updated_at: str


class EventPage(Model):
    items: list[CommunityEvent]
    next_cursor: Optional[str]


class RegistrationInput(Strict):
    attendees: int = Field(default=1, ge=1, le=MAX_ATTENDEES, description="places taken: you and your guests")
    points: int = Field(default=0, ge=0, le=1_000_000_000, description="points toward the fee")
    waitlist: bool = Field(default=False, description="when the event is full, queue for a place instead of 409")


class OfferAcceptance(Strict):
    points: int = Field(default=0, ge=0, le=1_000_000_000, description="points toward the fee")


class Registration(Model):
    registration_id: str
    event_id: str
    user_id: str
    order_id: Optional[str] = Field(description="null while waitlisted or offered")
    attendees: int
    status: RegistrationStatus
    offer_expires_at: Optional[str] = Field(default=None, description="offered: accept it before this time")
    ticket_code: Optional[str] = Field(
        default=None, description="shown once the registration is confirmed; the host scans it at the door"
    )
    cash_due_fen: int = 0
    points_applied: int = 0
    payment: Optional[Payment] = None
    checked_in_at: Optional[str] = None
    created_at: str


class RegistrationPage(Model):
    items: list[Registration]
    next_cursor: Optional[str]


class MyEvents(Model):
    hosted: list[CommunityEvent]
    registrations: list[Registration]


class CheckinResult(Model):
    """What the door sees: who, how many, when (nothing of what they paid)."""

    registration_id: str
    event_id: str
    user_id: str
    attendees: int
    checked_in_at: str


class CheckinInput(Strict):
    ticket_code: Annotated[str, StringConstraints(min_length=8, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")]


ORDER_TO_REGISTRATION: dict[str, RegistrationStatus] = {
    "pending_payment": "pending_payment",
    "paid": "confirmed",
    "partially_shipped": "confirmed",
    "shipped": "confirmed",
    "cancelled": "cancelled",
    "payment_failed": "cancelled",
    "expired": "expired",
    "refunded": "refunded",
}

# the order statuses of a confirmed registration: a ticket is checked in only while its order is in one of them
CONFIRMED_ORDER_STATUSES = tuple(s for s, r in ORDER_TO_REGISTRATION.items() if r == "confirmed")


def registration_id(order_id: str) -> str:
    """A registration is named after its order (so a replayed request finds it without another read)."""
    return f"r-{order_id.removeprefix('o-')}"


def ticket_code(key: bytes, event_id: str, reg_id: str) -> str:
    """`<registration id>.<signature>`: unguessable without the shop's key, and bound to its event."""
    signature = hmac.new(key, f"ticket|{event_id}|{reg_id}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"{reg_id}.{signature}"


def ticket_matches(key: bytes, event_id: str, code: str) -> Optional[str]:
    """The registration id a ticket code names for this event, or None (forged, or another event's)."""
    reg_id, _, _ = code.partition(".")
    return reg_id if reg_id and hmac.compare_digest(ticket_code(key, event_id, reg_id), code) else None


def attendees_checked_in(registrations: list[dict[str, Any]], confirmed_orders: set[str], host_id: str) -> int:
    """How many people other than the host were checked in at the door with a ticket still paid for (a group's
    guests are not counted: they hold no ticket of their own)."""
    return len(
        {
            r["user_id"]
            for r in registrations
            if r.get("checked_in_at") and r.get("order_id") in confirmed_orders and r["user_id"] != host_id
        }
    )


def host_reward_points(net_income_fen: int, share: str) -> int:
    """floor(net income in fen × share / 10): the host's points, computed exactly."""
    return int(Fraction(net_income_fen, FEN_PER_POINT) * Fraction(share)) if net_income_fen > 0 else 0


class EventCancel(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]


def tier_allows(tier: str, min_tier: str) -> bool:
    return TIER_RANK.get(tier, 0) >= TIER_RANK[min_tier]
