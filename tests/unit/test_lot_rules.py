"""Pure rules of points that expire by lot (issue 28's first slice): which lot an issue joins and when it expires,
drawing the earliest lots first, refunds back to their lots (expired ones expire at once), the sweep's work, and
the opening lot when expiry is switched on."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.domain.lots import draw, due, expired, expires_at, issue, lot_of, opening, put_back, undrawn


@pytest.mark.parametrize(
    "day, months, lot",
    [
        ("2026-01-15", 12, "2027-01"),
        ("2026-12-31", 1, "2027-01"),
        ("2026-11-01", 14, "2028-01"),
        ("2026-06-30", 60, "2031-06"),
    ],
)
def test_a_point_joins_the_lot_of_its_month_plus_the_policys_months(day, months, lot):
    assert lot_of(day, months) == lot


def test_a_lot_expires_when_its_month_ends_in_shanghai():
    assert expires_at("2027-01") == dt.datetime(2027, 1, 31, 16, tzinfo=dt.timezone.utc)  # 00:00 Feb 1, UTC+8
    assert expires_at("2026-12") == dt.datetime(2026, 12, 31, 16, tzinfo=dt.timezone.utc)
    assert not expired("2027-01", "2027-01-31") and expired("2027-01", "2027-02-01")


def test_a_user_has_at_most_months_plus_one_live_lots():
    lots: dict[str, int] = {}
    day = dt.date(2026, 1, 1)
    for n in range(800):  # an issue every day for two years, 12-month expiry
        lots = issue(lots, 1, lot_of((day + dt.timedelta(days=n)).isoformat(), 12))
        today = (day + dt.timedelta(days=n)).isoformat()
        lots = {k: v for k, v in lots.items() if not expired(k, today)}
        assert len(lots) <= 13


def test_spending_draws_the_earliest_lots_first():
    lots = {"2027-03": 100, "2027-01": 50, "2027-02": 30}
    after, drawn = draw(lots, 70)
    assert drawn == {"2027-01": 50, "2027-02": 20} and after == {"2027-02": 10, "2027-03": 100}
    with pytest.raises(ValueError):
        draw(lots, 181)


def test_a_refund_goes_back_to_its_lots_and_what_belongs_to_an_expired_lot_expires_at_once():
    lots, drawn = draw({"2026-12": 40, "2027-06": 100}, 90)  # 40 from December, 50 from June
    assert drawn == {"2026-12": 40, "2027-06": 50}
    back, lapsed = put_back(lots, drawn, 90, "2027-01-10")  # December is over by then
    assert (back, lapsed) == ({"2027-06": 100}, 40)
    part, lapsed = put_back(lots, drawn, 30, "2026-12-20")  # a partial refund undoes the latest lots first
    assert (part, lapsed) == ({"2027-06": 80}, 0)
    assert undrawn(drawn, 30) == {"2026-12": 40, "2027-06": 20}
    with pytest.raises(ValueError):
        put_back(lots, drawn, 91, "2026-12-20")


def test_the_sweep_expires_only_lots_whose_month_is_over_and_expiry_switched_on_opens_one_lot():
    lots = {"2026-11": 5, "2026-12": 7, "2027-01": 9}
    assert due(lots, "2026-12-31") == {"2026-11": 5}
    assert due(lots, "2027-01-01") == {"2026-11": 5, "2026-12": 7}
    assert opening(1_234, "2026-12-06", 12) == {"2027-12": 1_234} and opening(0, "2026-12-06", 12) == {}
