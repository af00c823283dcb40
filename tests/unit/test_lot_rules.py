"""Pure rules of points that expire by lot (issue 28's first slice): which lot an issue joins and when it expires,
drawing the earliest lots first, refunds back to their lots (expired ones expire at once), the sweep's work, and
the opening lot when expiry is switched on."""

from __future__ import annotations

import datetime as dt
import typing

import pytest

from chalicelib.domain.lots import (
    DRAWS,
    EXPIRES,
    ISSUES,
    MOVES,
    OPENS,
    RETURNS,
    Terms,
    draw,
    due,
    expired,
    expires_at,
    issue,
    lot_of,
    opening,
    post,
    put_back,
    settle,
    terms_at,
    undrawn,
)
from chalicelib.domain.points import Entry, LedgerKind


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
    terms = terms_at([("2000-01-01T00:00:00.000Z", None), ("2026-12-05T16:00:00.000Z", 12)], "2026-12-07T00:00:00Z")
    assert terms == Terms(12, "2027-12")  # switched on at 00:00 on 6 December in Shanghai
    assert opening(1_234, terms.opening) == {"2027-12": 1_234} and opening(0, terms.opening) == {}


def test_every_ledger_kind_says_what_it_does_to_the_lots_exactly_once():
    groups = [ISSUES, DRAWS, RETURNS, MOVES, EXPIRES, OPENS]
    kinds = set(typing.get_args(LedgerKind))
    assert set().union(*groups) == kinds
    assert sum(len(g) for g in groups) == len(kinds)


def test_expiry_in_force_runs_from_the_first_version_of_an_unbroken_run_with_expiry():
    schedule = [
        ("2000-01-01T00:00:00.000Z", None),
        ("2026-03-10T04:00:00.000Z", 12),
        ("2026-06-01T04:00:00.000Z", 6),  # months changed: the run goes on
        ("2026-09-01T04:00:00.000Z", None),  # switched off
        ("2026-11-20T04:00:00.000Z", 24),  # on again: a new opening lot
    ]
    assert terms_at(schedule, "2026-03-01T00:00:00Z") is None
    # months changed to 6: new points live 6 months, the opening lot stays the first version's (2026-03 + 12)
    assert terms_at(schedule, "2026-07-01T00:00:00Z") == Terms(6, "2027-03")
    assert terms_at(schedule, "2026-10-01T00:00:00Z") is None
    assert terms_at(schedule, "2026-12-01T00:00:00Z") == Terms(24, "2028-11")


def test_a_month_end_expires_due_lots_as_far_as_available_points_cover_them():
    lots = {"2026-10": 50, "2026-11": 30, "2027-01": 20}
    assert settle(lots, 100, 0, "2026-12-01") == ({"2027-01": 20}, {"2026-10": 50, "2026-11": 30})
    # an open order holds 60: a hold takes the earliest lots, so October's 50 and 10 of November's stay until the
    # order is paid (spent) or released; November's other 20 expire now
    assert settle(lots, 40, 60, "2026-12-01") == ({"2026-10": 50, "2026-11": 10, "2027-01": 20}, {"2026-11": 20})


def _post(lots, entries, day="2026-12-10", drawn=None, available=None):
    start = sum(lots.values()) if available is None else available  # nothing held unless a test says so
    return post(lots, entries, day, lambda: Terms(12, "2027-06"), lambda ref: dict((drawn or {}).get(ref, {})), start)


def test_a_change_issues_into_this_months_lot_draws_earliest_and_remembers_what_each_ref_drew():
    posted = _post(
        {"2027-01": 30, "2027-06": 100},
        [Entry(delta=50, kind="earn", ref="checkin:2026-12-10"), Entry(delta=-60, kind="merchant_payment", ref="m:1")],
    )
    assert posted.lots == {"2027-06": 70, "2027-12": 50}
    assert posted.moved == [{"2027-12": 50}, {"2027-01": -30, "2027-06": -30}]
    assert posted.owed == {"m:1": {"2027-01": 30, "2027-06": 30}} and posted.lapsed == []


def test_a_hold_moves_nothing_and_spending_held_points_draws_them():
    hold = _post({"2027-06": 100}, [Entry(delta=-40, held_delta=40, kind="hold", ref="order:o1")])
    assert hold.lots == {"2027-06": 100} and hold.moved == [{}]
    spend = _post({"2027-06": 100}, [Entry(delta=0, held_delta=-40, kind="spend", ref="order:o1")])
    assert spend.lots == {"2027-06": 60} and spend.owed == {"order:o1": {"2027-06": 40}}


def test_a_refund_goes_back_to_the_lots_its_spend_drew_and_an_expired_ones_share_lapses():
    drawn = {"order:o1": {"2026-11": 30, "2027-06": 30}}
    posted = _post({"2027-06": 10}, [Entry(delta=45, kind="refund", ref="order:o1")], drawn=drawn)
    assert posted.lots == {"2027-06": 40}  # 30 back to 2027-06; 15 of 2026-11's expired in November
    assert posted.moved == [{"2027-06": 30, "2026-11": 15}]
    assert posted.lapsed == [("order:o1", {"2026-11": 15})]
    assert posted.owed == {"order:o1": {"2026-11": 15}}


def test_points_spent_before_the_lots_were_kept_come_back_into_the_opening_lot():
    posted = _post({}, [Entry(delta=25, kind="merchant_refund", ref="m:old")])
    assert posted.lots == {"2027-06": 25} and posted.owed == {"m:old": {}}


def test_points_issued_while_a_reversal_left_a_debt_pay_it_before_they_join_a_lot():
    posted = post({}, [Entry(delta=100, kind="earn", ref="checkin:2026-12-10")], "2026-12-10",
                  lambda: Terms(12, "2027-06"), lambda ref: {}, available=-30)  # fmt: skip
    assert posted.lots == {"2027-12": 70} and posted.moved == [{"2027-12": 70}]


def test_a_royalty_reversed_after_it_was_spent_leaves_a_debt_no_lot_holds_and_a_refund_pays_it_first():
    # 150 in two lots, all spent on order O; the royalty behind 50 of it is reversed (available -50); O is refunded
    drawn = {"order:O": {"2027-03": 100, "2027-04": 50}}
    reversal = _post({}, [Entry(delta=-50, kind="reversal", ref="royalty:x:s")], available=0)
    assert reversal.lots == {} and reversal.moved == [{}]
    refund = _post({}, [Entry(delta=150, kind="refund", ref="order:O")], drawn=drawn, available=-50)
    assert refund.lots == {"2027-03": 50, "2027-04": 50}, "100 come back: 50 paid the debt, latest lot first"
    assert sum(refund.lots.values()) == max(-50 + 150, 0)


def test_a_release_into_a_debt_pays_it_from_the_lots_the_hold_kept():
    # available 30, held 50 (lots 80); a reversal of 40 leaves available -10, lots 50; the order is released
    lots = _post({"2027-06": 80}, [Entry(delta=-40, kind="reversal", ref="royalty:y:s")], available=30).lots
    assert lots == {"2027-06": 50}
    released = _post(lots, [Entry(delta=50, held_delta=-50, kind="release", ref="order:o2")], available=-10)
    assert released.lots == {"2027-06": 40}, "40 available + 0 held after the release"
