"""Community events (社区活动): official and user-hosted, with a capacity, a fee and a tier threshold.

A registration is an order of the event's ticket: the ticket is a SKU whose stock is the places left, priced at
the fee, so registering is checkout (points, points + cash, cash, free), with its holds, payments, expiry, cancel
and refund, and capacity is the stock condition of the order's transaction.
"""

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Literal, Optional, Sequence

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from chalicelib.domain.base import Model, PageQuery, Strict
from chalicelib.domain.catalog import MAX_PRICE_FEN, Accepts
from chalicelib.domain.errors import InvalidTransition
from chalicelib.domain.money import FEN_PER_POINT, points_price
from chalicelib.domain.orders import Order, Payment
from chalicelib.domain.points import TIER_RANK as TIER_RANK
from chalicelib.domain.points import Tier
from chalicelib.domain.points import tier_allows as tier_allows
from chalicelib.domain.text import OneLine, Paragraphs
from chalicelib.domain.tickets import TICKET_CATEGORY as TICKET_CATEGORY
from chalicelib.domain.tickets import event_of_sku as event_of_sku
from chalicelib.domain.tickets import registration_id as registration_id
from chalicelib.domain.tickets import ticket_sku as ticket_sku

EventStatus = Literal["draft", "submitted", "published", "rejected", "cancelled"]
RegistrationStatus = Literal[
    "waitlisted", "offered", "lapsed", "withdrawn", "pending_payment", "confirmed", "cancelled", "expired", "refunded"
]
# What a registration item says of itself: a place in the event's queue (waiting), places set aside for it (offered),
# out of the queue (lapsed, withdrawn), or the registration of an order (ordered: it shows its order's status)
EntryStatus = Literal["waiting", "offered", "lapsed", "withdrawn", "ordered"]
# where a move takes it: another entry status, or (an order's registration, through its order) cancelled by its
# attendee or refunded because the event was called off
MoveTarget = Literal["waiting", "offered", "lapsed", "withdrawn", "ordered", "cancelled", "refunded"]
QUEUE_STATUS: dict[EntryStatus, RegistrationStatus] = {
    "waiting": "waitlisted",
    "offered": "offered",
    "lapsed": "lapsed",
    "withdrawn": "withdrawn",
}
MAX_CAPACITY = 10_000
MAX_ATTENDEES = 4
MAX_EVENT_DAYS = 14  # an event lasts at most this long; the public listing relies on it
CHECKIN_OPENS = dt.timedelta(hours=2)  # before the start
DEFAULT_CANCEL_BEFORE = dt.timedelta(hours=24)

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), OneLine]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), OneLine]
City = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), OneLine]


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


def ticket_code(key: bytes, event_id: str, reg_id: str) -> str:
    """`<registration id>.<signature>`: unguessable without the shop's key, and bound to its event."""
    signature = hmac.new(key, f"ticket|{event_id}|{reg_id}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"{reg_id}.{signature}"


def ticket_matches(key: bytes, event_id: str, code: str) -> Optional[str]:
    """The registration id a ticket code names for this event, or None (forged, or another event's)."""
    reg_id, _, _ = code.partition(".")
    return reg_id if reg_id and hmac.compare_digest(ticket_code(key, event_id, reg_id), code) else None


def attendees_checked_in(
    registrations: Sequence["RegistrationRecord"], confirmed_orders: set[str], host_id: str
) -> int:
    """How many people other than the host were checked in at the door with a ticket still paid for (a group's
    guests are not counted: they hold no ticket of their own)."""
    return len(
        {
            r.user_id
            for r in registrations
            if r.checked_in_at and r.order_id in confirmed_orders and r.user_id != host_id
        }
    )


def host_reward_points(net_income_fen: int, share: str) -> int:
    """floor(net income in fen × share / 10): the host's points, computed exactly."""
    return int(Fraction(net_income_fen, FEN_PER_POINT) * Fraction(share)) if net_income_fen > 0 else 0


class EventCancel(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]


# -- what the store holds (the repository converts its items; only it knows their keys) ---------------------------
class EventRecord(Model):
    """An event as stored: what its host or a merchandiser gave, its review, its cancel and its host's reward."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    event_id: str
    host_id: Optional[str] = None  # None: an official event
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
    min_tier: Tier
    fee_fen: int
    accepts: Accepts
    stock_shards: int = 1  # the ticket's places are spread over this many items
    note: Optional[str] = None
    reviewed_by: Optional[str] = None
    cancelled_by: Optional[str] = None
    refunds_done: Optional[bool] = None  # a cancelled event's: every registration refunded
    reward_status: Optional[Literal["credited", "budget_exhausted"]] = None
    reward_points: Optional[int] = None
    net_income_fen: Optional[int] = None
    created_at: str
    updated_at: str
    version: int = 0


@dataclass(frozen=True)
class Places:
    """An event's places left (its ticket's stock, offers set aside excluded) and the people waiting for one."""

    left: int
    waiting: int = 0


class RegistrationRecord(Model):
    """A registration as stored: a place in an event's queue, or the registration of an order."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    registration_id: str
    event_id: str
    user_id: str
    order_id: Optional[str] = None  # None while in the queue (or out of it)
    attendees: int
    status: EntryStatus = "ordered"  # a registration placed as an order stores none: its order's is its status
    idempotency_key: Optional[str] = None  # a queue entry's: the request that queued it
    offer_expires_at: Optional[str] = None
    held: list[list[int]] = Field(default_factory=list)  # an offer's places on a sharded ticket: [shard, places]
    checked_in_at: Optional[str] = None
    created_at: str


# -- an event's review and cancel ---------------------------------------------------------------------------------
REVIEWABLE: tuple[EventStatus, ...] = ("submitted", "draft")
PUBLIC: tuple[EventStatus, ...] = ("published", "cancelled")  # what GET /events/{id} shows to anyone


def review(event: EventRecord, body: EventDecision, actor: str, at: str) -> EventRecord:
    """A merchandiser's decision on a submitted (or draft) event: published, or rejected with a note."""
    if event.status not in REVIEWABLE:
        raise InvalidTransition(
            f"a {event.status} event cannot be reviewed", {"from": event.status, "to": body.decision}
        )
    status: EventStatus = "published" if body.decision == "approve" else "rejected"
    return event.model_copy(update={"status": status, "note": body.note, "reviewed_by": actor, "updated_at": at})


def call_off(event: EventRecord, actor: str, reason: str, at: str) -> EventRecord:
    """The event cancelled (once, and only before it ends); its registrations are refunded after."""
    if event.status == "cancelled" or event.ends_at <= at:
        raise InvalidTransition(
            f"a {event.status} event that has "
            f"{'ended' if event.status != 'cancelled' else 'been cancelled'} "
            "cannot be cancelled",
            {"from": event.status, "to": "cancelled"},
        )
    return event.model_copy(
        update={"status": "cancelled", "note": reason, "cancelled_by": actor, "updated_at": at, "refunds_done": False}
    )


# -- a registration's moves, as data: one row per (from, to), and a pure `move` that applies it --------------------
PlacesMove = Literal["set_aside", "give_back", "to_order"]


@dataclass(frozen=True)
class Move:
    """What moving a registration along one row does, besides changing its status."""

    queued: int = 0  # the event's count of people waiting: +1 joins the queue, -1 leaves it
    places: Optional[PlacesMove] = None  # the entry's places: set aside out of the ticket's stock for an offer,
    # given back to it, or taken by an order (checkout's stock condition, or the places an offer set aside)
    releases: bool = False  # the user's marker goes: they may register for the event again
    offers_next: bool = False  # then, while the event takes registrations, its places left go to the next in line
    # through its order (the order's own table moves points, cash and places): the order's status → its move;
    # an order in a status not named here is past it, and nothing moves
    order_moves: tuple[tuple[str, str], ...] = ()
    until_cancel_until: bool = False  # only until the event's cancel_until
    unless_checked_in: bool = False  # never once the ticket was checked in at the door

    def order_move(self, order_status: str) -> Optional[str]:
        return dict(self.order_moves).get(order_status)


_OFFER_ENDS = Move(places="give_back", releases=True, offers_next=True)
MOVES: dict[tuple[Optional[EntryStatus], MoveTarget], Move] = {
    (None, "ordered"): Move(places="to_order"),  # registers: an order of the ticket
    (None, "waiting"): Move(queued=1),  # the event is full: a place in its queue
    ("waiting", "offered"): Move(queued=-1, places="set_aside"),  # the first in line the places left can seat
    # leaves the queue (nothing was set aside; a look at the queue after it costs one read)
    ("waiting", "withdrawn"): Move(queued=-1, releases=True, offers_next=True),
    ("offered", "lapsed"): _OFFER_ENDS,  # not taken up in time
    ("offered", "withdrawn"): _OFFER_ENDS,  # turned down (or the event called off)
    ("offered", "ordered"): Move(places="to_order"),  # taken up: paid as any registration
    ("ordered", "cancelled"): Move(  # the attendee's cancel: points and cash back, as an order cancel
        releases=True,
        offers_next=True,
        order_moves=(("pending_payment", "cancelled"), ("paid", "cancelled")),
        until_cancel_until=True,
        unless_checked_in=True,
    ),
    ("ordered", "refunded"): Move(  # the event called off: refunded, or an unpaid order cancelled
        releases=True, order_moves=(("pending_payment", "cancelled"), ("paid", "refunded"))
    ),
}


@dataclass(frozen=True)
class RegistrationMove:
    """One move of a registration: as it was (None while it is being made), as it is after, and its row."""

    before: Optional[RegistrationRecord]
    after: RegistrationRecord
    rule: Move
    order_move: Optional[str] = None  # an order's registration: its order's move (None: the order is past it)


def can_move(status: Optional[EntryStatus], target: MoveTarget) -> bool:
    return (status, target) in MOVES


def making(entry: RegistrationRecord) -> RegistrationMove:
    """What making `entry` does: a place in the queue, or the registration of an order."""
    return RegistrationMove(None, entry, MOVES[(None, entry.status)])


def move(
    entry: RegistrationRecord,
    target: MoveTarget,
    *,
    order_id: Optional[str] = None,
    offer_expires_at: Optional[str] = None,
    order_status: Optional[str] = None,
) -> RegistrationMove:
    """Move `entry` to `target` by its row (a move the table has no row for is refused): an offer lapses at
    `offer_expires_at`; an accepted offer becomes the registration of `order_id`; an order's registration moves
    through its order, in `order_status`, and is itself unchanged (it shows the order's status)."""
    rule = MOVES.get((entry.status, target))
    if rule is None:
        raise InvalidTransition(
            f"a {entry.status} registration cannot become {target}", {"from": entry.status, "to": target}
        )
    if rule.order_moves:
        return RegistrationMove(entry, entry, rule, rule.order_move(order_status) if order_status else None)
    changes: dict[str, object] = {"status": target}
    if rule.places == "set_aside":
        changes["offer_expires_at"] = offer_expires_at
    if rule.places == "to_order":
        changes["order_id"] = order_id
    return RegistrationMove(entry, entry.model_copy(update=changes), rule)


def cancel_target(entry: RegistrationRecord, called_off: bool = False) -> MoveTarget:
    """Where cancelling takes a registration: a queue entry out of the queue; an order's registration cancelled
    by its attendee, or refunded when the event is called off."""
    if entry.status != "ordered":
        return "withdrawn"
    return "refunded" if called_off else "cancelled"


# -- what the API shows ---------------------------------------------------------------------------------------------
def event_view(event: EventRecord, places: Places) -> CommunityEvent:
    return CommunityEvent.model_validate(
        {
            **{k: v for k, v in event.model_dump(mode="json").items() if k in CommunityEvent.model_fields},
            "places_left": places.left,
            "registered": event.capacity - places.left,
            "waitlisted": places.waiting,
            "points_price": points_price(event.fee_fen),
        }
    )


def registration_view(entry: RegistrationRecord, order: Optional[Order], ticket_key: bytes) -> Registration:
    """A queue entry (`order` None) shows where it is in the queue; an order's registration shows its order's
    status, what it costs, and once confirmed, its ticket code."""
    if order is None:
        return Registration(
            registration_id=entry.registration_id,
            event_id=entry.event_id,
            user_id=entry.user_id,
            order_id=None,
            attendees=entry.attendees,
            status=QUEUE_STATUS[entry.status],
            offer_expires_at=entry.offer_expires_at if entry.status == "offered" else None,
            created_at=entry.created_at,
        )
    status = ORDER_TO_REGISTRATION[order.status]
    code = ticket_code(ticket_key, entry.event_id, entry.registration_id) if status == "confirmed" else None
    return Registration(
        registration_id=entry.registration_id,
        event_id=entry.event_id,
        user_id=entry.user_id,
        order_id=entry.order_id,
        attendees=entry.attendees,
        status=status,
        ticket_code=code,
        cash_due_fen=order.cash_due_fen,
        points_applied=order.points_applied,
        payment=order.payment,
        checked_in_at=entry.checked_in_at,
        created_at=entry.created_at,
    )


class EventQuery(PageQuery):
    city: Optional[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]] = None


class AdminEventQuery(PageQuery):
    status: EventStatus = "submitted"
