"""Pure rules of NIO House bookings: a day's slots from opening hours, what a booking line covers (across days for
a book), why it cannot, and what is left."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from chalicelib.domain.bookings import ResourceInput, availability, covered, slot_starts
from chalicelib.domain.checkout import BookingLine
from chalicelib.domain.errors import NotAvailable

ROOM = {
    "resource_id": "room-1",
    "house": "nio-house-sh",
    "kind": "room",
    "capacity": 2,
    "slot_minutes": 60,
    "hours": {"mon": ["10:00-12:00", "14:00-16:00"], "tue": ["10:00-12:00"]},
    "closed_dates": ["2026-12-15"],
}
BOOK = {**ROOM, "kind": "book", "slot_minutes": 1440, "hours": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed")}}
NOW = dt.datetime(2026, 12, 6, 2, tzinfo=dt.timezone.utc)  # Sunday 10:00 in Shanghai


def line(date="2026-12-07", start="10:00", slots=1) -> BookingLine:
    return BookingLine(resource_id="room-1", date=date, start=start, slots=slots)


def test_a_days_slots_come_from_its_weekdays_hours_and_none_on_a_closed_date():
    assert slot_starts(ROOM, "2026-12-07") == ["10:00", "11:00", "14:00", "15:00"]  # a Monday
    assert slot_starts(ROOM, "2026-12-08") == ["10:00", "11:00"]
    assert slot_starts(ROOM, "2026-12-09") == []  # no Wednesday hours
    assert slot_starts(ROOM, "2026-12-15") == []  # a Tuesday, closed


def test_a_booking_covers_its_consecutive_slots_in_shanghai_time():
    got = covered(ROOM, line(start="10:00", slots=2), NOW)
    assert got.slot_starts == ["2026-12-07 10:00", "2026-12-07 11:00"]
    assert (got.starts_at, got.ends_at, got.cancel_until) == (
        "2026-12-07T02:00:00.000Z",
        "2026-12-07T04:00:00.000Z",
        "2026-12-07T00:00:00.000Z",
    )


def test_a_book_loan_spans_days_and_stops_at_a_closed_one():
    three = covered(BOOK, BookingLine(resource_id="room-1", date="2026-12-07", start="00:00", slots=3), NOW)
    assert three.slot_starts == ["2026-12-07 00:00", "2026-12-08 00:00", "2026-12-09 00:00"]
    assert three.ends_at == "2026-12-09T16:00:00.000Z"
    with pytest.raises(NotAvailable) as closed:
        covered(BOOK, BookingLine(resource_id="room-1", date="2026-12-14", start="00:00", slots=2), NOW)
    assert closed.value.details["reason"] == "closed" and closed.value.details["closed"] == "2026-12-15"


@pytest.mark.parametrize(
    "booking, reason",
    [
        (line(start="11:00", slots=2), "outside_hours"),  # 12:00 is the lunch break
        (line(start="10:30"), "outside_hours"),
        (line(start="09:00"), "outside_hours"),
        (line(date="2026-12-09"), "closed"),
        (line(date="2026-12-15"), "closed"),
        (line(date="2026-12-05", start="10:00"), "past"),
        (line(date="2026-12-07", start="10:00", slots=1), None),
        (line(date="2027-03-08"), "too_far_ahead"),
    ],
)
def test_a_booking_that_cannot_be_says_why(booking, reason):
    if reason is None:
        assert covered(ROOM, booking, NOW).slots == 1
        return
    with pytest.raises(NotAvailable) as refused:
        covered(ROOM, booking, NOW)
    assert refused.value.details["reason"] == reason


def test_a_slot_is_booked_until_it_ends_so_a_book_can_be_lent_today():
    at_1020 = NOW + dt.timedelta(minutes=20)  # Monday 2026-12-07 10:20 in Shanghai, the 10:00 slot under way
    monday = at_1020 + dt.timedelta(days=1)
    assert covered(ROOM, line(start="10:00"), monday).starts_at == "2026-12-07T02:00:00.000Z"
    with pytest.raises(NotAvailable):
        covered(ROOM, line(start="10:00"), monday + dt.timedelta(minutes=40))  # 11:00: it is over
    today = BookingLine(resource_id="room-1", date="2026-12-07", start="00:00", slots=2)
    assert covered(BOOK, today, monday).slot_starts == ["2026-12-07 00:00", "2026-12-08 00:00"]


def test_availability_is_capacity_less_what_each_slot_holds():
    day = availability(ROOM, "2026-12-07", {"10:00": 2, "14:00": 1})
    assert [(s.start, s.left) for s in day.slots] == [("10:00", 0), ("11:00", 2), ("14:00", 1), ("15:00", 2)]


@pytest.mark.parametrize(
    "hours, problem",
    [
        ({"mon": ["10:00-10:00"]}, "ends before it starts"),
        ({"mon": ["10:15-12:00"]}, "whole slots"),
        ({"mon": ["10:00-12:00", "11:00-13:00"]}, "overlap"),
        ({"mon": ["00:00-01:00"] * 5}, "at most 4"),
    ],
)
def test_opening_hours_are_whole_slots_that_do_not_overlap(hours, problem):
    body = {**ROOM, "title": "R", "title_zh": "R", "price_fen_per_slot": 100, "hours": hours, "closed_dates": []}
    with pytest.raises(ValidationError) as bad:
        ResourceInput.model_validate(body)
    assert problem in str(bad.value)
