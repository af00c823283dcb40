"""Every stored time is ISO 8601 in UTC to the millisecond with a Z, and a day is a Shanghai day: the shop's
formatters give what the datetime library's own conversions give, at the edges too."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.adapters.clock import Stamp, SystemClock, iso, stamp
from chalicelib.domain.points import SHANGHAI, shanghai_day

UTC = dt.timezone.utc
MOMENTS = [
    dt.datetime(2027, 2, 1, 1, 0, tzinfo=UTC),
    dt.datetime(2026, 12, 31, 15, 59, 59, 999999, tzinfo=UTC),  # the last instant of Shanghai's 2026-12-31
    dt.datetime(2026, 12, 31, 16, 0, tzinfo=UTC),  # Shanghai's 2027-01-01 begins
    dt.datetime(2027, 1, 1, 7, 59, 59, 1500, tzinfo=SHANGHAI),  # the UTC day before
    dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    dt.datetime(987, 3, 4, 5, 6, 7, 8000, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_iso_is_isoformat_in_utc_to_the_millisecond_with_a_z(moment):
    assert iso(moment) == moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize("moment", MOMENTS)
def test_the_shanghai_day_is_the_date_in_shanghai(moment):
    assert shanghai_day(moment) == moment.astimezone(SHANGHAI).date().isoformat()


def test_the_edges_by_hand():
    assert iso(dt.datetime(2027, 1, 1, 7, 59, 59, 1500, tzinfo=SHANGHAI)) == "2026-12-31T23:59:59.001Z"
    assert shanghai_day(dt.datetime(2026, 12, 31, 15, 59, 59, 999999, tzinfo=UTC)) == "2026-12-31"
    assert shanghai_day(dt.datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == "2027-01-01"


def ns_of(moment: dt.datetime) -> int:
    """The Unix time of `moment` in nanoseconds, exactly (a float would round)."""
    return (moment - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1) * 1000


STAMPED = [
    *MOMENTS[:5],
    dt.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # the UTC year ends
    dt.datetime(2027, 1, 1, 0, 0, 0, 999, tzinfo=UTC),  # less than a millisecond: .000
    dt.datetime(2027, 6, 30, 12, 0, 0, 999000, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", STAMPED)
def test_the_system_clock_stamps_what_iso_and_shanghai_day_write(moment):
    ns = ns_of(moment) + 999  # nanoseconds within the microsecond change nothing (the clock's own resolution)
    clock = SystemClock(time_ns=lambda: ns)
    assert clock.stamp() == Stamp(iso(moment), shanghai_day(moment))
    assert stamp(clock) == (iso(moment), shanghai_day(moment))


def test_a_stamp_follows_the_clock_each_millisecond_and_back():
    """The second's text is kept between calls: each call still stamps its own instant, across the second, the
    Shanghai midnight and a clock set back."""
    at = {"ns": 0}
    clock = SystemClock(time_ns=lambda: at["ns"])
    start = dt.datetime(2026, 12, 31, 15, 59, 59, 998000, tzinfo=UTC)
    steps = [dt.timedelta(milliseconds=ms) for ms in (0, 1, 2, 3, 1000, -1000, -3, 86_400_000, 0)]
    for step in steps:
        moment = start + step
        at["ns"] = ns_of(moment)
        assert clock.stamp() == (iso(moment), shanghai_day(moment)), moment
    assert clock.stamp() == ("2026-12-31T15:59:59.998Z", "2026-12-31")  # the last step set it back a day
    at["ns"] += 2_000_000
    assert clock.stamp() == ("2026-12-31T16:00:00.000Z", "2027-01-01")


def test_any_other_clock_is_stamped_from_its_now():
    class Pinned:
        def now(self) -> dt.datetime:
            return dt.datetime(2027, 1, 1, 7, 59, 59, 1500, tzinfo=SHANGHAI)

    assert stamp(Pinned()) == ("2026-12-31T23:59:59.001Z", "2027-01-01")
