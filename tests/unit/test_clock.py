"""Every stored time is ISO 8601 in UTC to the millisecond with a Z, and a day is a Shanghai day: the shop's
formatters give what the datetime library's own conversions give, at the edges too."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.adapters.clock import iso
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
