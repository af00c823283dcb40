"""NIO House bookings: resources (rooms, books) with opening hours in slots, their availability on a Shanghai date,
and the rules a booking line of an order must meet. A slot is a start time on a date; each holds `capacity`
bookings at once (a room 1; a shelf of one book as many as its copies). Booking lines go through checkout; each slot
they cover is one item whose count the order's transaction raises on condition it stays within capacity."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Optional

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from chalicelib.domain.auth import MERCHANT_ID
from chalicelib.domain.base import Model, Strict
from chalicelib.domain.catalog import MAX_PRICE_FEN, Accepts, ShortText
from chalicelib.domain.checkout import BOOKING_CATEGORY, BookingLine, booking_sku
from chalicelib.domain.errors import NotAvailable
from chalicelib.domain.orders import BookingDetail
from chalicelib.domain.points import SHANGHAI, Tier

MAX_SLOTS = 8
CANCEL_BEFORE = dt.timedelta(hours=2)
MAX_DAYS_AHEAD = 90
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ResourceId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,47}$")]
HouseId = Annotated[str, StringConstraints(pattern=f"^{MERCHANT_ID.pattern}$")]
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Interval = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
ResourceKind = Literal["room", "book"]


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def clock_of(total: int) -> str:
    return f"{total // 60:02d}:{total % 60:02d}"


def _date(value: str, name: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} is not a date") from None
    return value


__all__ = ["BOOKING_CATEGORY", "BookingLine", "BookingDetail", "booking_sku"]


class ResourceInput(Strict):
    resource_id: ResourceId
    house: HouseId = Field(description="the NIO House (a registered merchant of kind nio_house) it belongs to")
    kind: ResourceKind
    title: ShortText
    title_zh: ShortText
    capacity: int = Field(ge=1, le=100, description="bookings one slot takes at once (a room 1; a book its copies)")
    slot_minutes: int = Field(ge=15, le=1440, description="a slot's length: 15 to 1440 (a day), dividing a day")
    hours: dict[Weekday, list[Interval]] = Field(
        description='opening hours per weekday, e.g. {"mon": ["10:00-22:00"]}; a weekday left out is closed'
    )
    closed_dates: list[Day] = Field(default_factory=list, max_length=100, description="Shanghai dates it is closed")
    price_fen_per_slot: int = Field(ge=0, le=MAX_PRICE_FEN, multiple_of=10)
    accepts: Accepts = Field(default_factory=Accepts)
    min_tier: Tier = "fan"

    @field_validator("slot_minutes")
    @classmethod
    def _divides_a_day(cls, value: int) -> int:
        if 1440 % value:
            raise ValueError("must divide a day (1440 minutes): 15, 30, 60, 120, 240, 1440, ...")
        return value

    @field_validator("closed_dates")
    @classmethod
    def _dates(cls, values: list[str]) -> list[str]:
        return sorted({_date(v, "closed_dates") for v in values})

    @model_validator(mode="after")
    def _whole_slots(self) -> "ResourceInput":
        for day, intervals in self.hours.items():
            if len(intervals) > 4:
                raise ValueError(f"hours.{day}: at most 4 intervals a day")
            spans = sorted((minutes(i[:5]), minutes(i[6:])) for i in intervals)
            for start, end in spans:
                if start >= end:
                    raise ValueError(f"hours.{day}: {clock_of(start)}-{clock_of(end)} ends before it starts")
                if start % self.slot_minutes or (end - start) % self.slot_minutes:
                    raise ValueError(f"hours.{day}: each interval is whole slots of {self.slot_minutes} minutes")
            for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
                if start < end:
                    raise ValueError(f"hours.{day}: intervals overlap")
        return self


class Resource(Model):
    resource_id: str
    house: str
    kind: ResourceKind
    title: str
    title_zh: str
    capacity: int
    slot_minutes: int
    hours: dict[str, list[str]]
    closed_dates: list[str]
    price_fen_per_slot: int
    points_price_per_slot: int
    accepts: Accepts
    min_tier: Tier
    sku: str = Field(description="what its booking lines are priced as (shown in orders)")
    created_at: str


class ResourceList(Model):
    items: list[Resource]


class SlotLeft(Model):
    start: str
    left: int


class Availability(Model):
    resource_id: str
    date: str
    slot_minutes: int
    slots: list[SlotLeft] = Field(description="every slot of the day, open or full; none on a closed day")


class AvailabilityQuery(Strict):
    date: Day

    @field_validator("date")
    @classmethod
    def _a_date(cls, value: str) -> str:
        return _date(value, "date")


# -- pure rules -----------------------------------------------------------------------------------------------
def rules_of(resource: dict[str, Any]) -> dict[str, Any]:
    """What checkout needs of a resource, copied onto its booking SKU."""
    keys = ("resource_id", "house", "kind", "capacity", "slot_minutes", "hours", "closed_dates")
    return {k: resource[k] for k in keys}


def slot_starts(rules: dict[str, Any], date: str) -> list[str]:
    """The slot starts of `date` (Shanghai): from its weekday's hours; none on a closed date."""
    if date in rules.get("closed_dates", []):
        return []
    weekday = WEEKDAYS[dt.date.fromisoformat(date).weekday()]
    step = int(rules["slot_minutes"])
    starts: list[str] = []
    for interval in sorted(rules["hours"].get(weekday, [])):
        starts += [clock_of(m) for m in range(minutes(interval[:5]), minutes(interval[6:]), step)]
    return starts


def local(date: str, clock: str) -> dt.datetime:
    day = dt.date.fromisoformat(date)
    return dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + dt.timedelta(minutes=minutes(clock))


def covered(rules: dict[str, Any], line: BookingLine, now: dt.datetime) -> BookingDetail:
    """The slots a booking line takes, or why it cannot (409 not_available, `details.reason`)."""
    where = {"resource_id": line.resource_id, "date": line.date, "start": line.start}
    begins = local(line.date, line.start)
    step = int(rules["slot_minutes"])
    if begins + dt.timedelta(minutes=step) <= now:  # a slot is booked until it ends (a walk-in; a book today)
        raise NotAvailable(f"{line.date} {line.start} is over", {**where, "reason": "past"})
    if begins > now + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise NotAvailable(f"bookings open {MAX_DAYS_AHEAD} days ahead", {**where, "reason": "too_far_ahead"})
    wanted: list[str] = []
    for n in range(line.slots):
        moment = begins + dt.timedelta(minutes=n * step)
        date, clock = moment.date().isoformat(), moment.strftime("%H:%M")
        starts = slot_starts(rules, date)
        if not starts:
            raise NotAvailable(f"{line.resource_id} is closed on {date}", {**where, "reason": "closed", "closed": date})
        if clock not in starts:
            raise NotAvailable(
                f"{line.start} for {line.slots} slot(s) of {step} minutes is outside the opening hours "
                f"({date} {clock} is not a slot)",
                {**where, "reason": "outside_hours", "opening_slots": starts},
            )
        wanted.append(f"{date} {clock}")
    ends = begins + dt.timedelta(minutes=step * line.slots)
    utc = dt.timezone.utc
    return BookingDetail(
        resource_id=line.resource_id,
        house=rules["house"],
        kind=rules["kind"],
        date=line.date,
        start=line.start,
        slots=line.slots,
        starts_at=_iso(begins.astimezone(utc)),
        ends_at=_iso(ends.astimezone(utc)),
        cancel_until=_iso((begins - CANCEL_BEFORE).astimezone(utc)),
        slot_starts=wanted,
    )


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def availability(rules: dict[str, Any], date: str, taken: dict[str, int]) -> Availability:
    capacity = int(rules["capacity"])
    return Availability(
        resource_id=rules["resource_id"],
        date=date,
        slot_minutes=int(rules["slot_minutes"]),
        slots=[SlotLeft(start=s, left=max(0, capacity - taken.get(s, 0))) for s in slot_starts(rules, date)],
    )


class Loan(Model):
    loan_id: str
    order_id: str
    user_id: str
    resource_id: str
    house: str
    title: str
    starts_at: str
    due_at: str
    returned_at: Optional[str] = None
    overdue: bool = False


class LoanPage(Model):
    items: list[Loan]


class LoanQuery(Model):  # a query string
    model_config = ConfigDict(extra="forbid", defer_build=True)

    overdue: Literal["true", "false"] = Field(default="false", description="true: only loans past due_at, not back")


class DayBooking(Model):
    order_id: str
    user_id: str
    start: str
    slots: int
    slot_starts: list[str]
    starts_at: str
    ends_at: str


class ResourceDay(Model):
    resource: Resource
    slots: list[SlotLeft]
    bookings: list[DayBooking]


class HouseDay(Model):
    house: str
    date: str
    resources: list[ResourceDay]
