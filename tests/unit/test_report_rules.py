"""The points report's arithmetic, without a server: which ledger kinds count where, days that carry the
outstanding balance forward, the totals of a range, and the range a merchandiser may ask for."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.report import ISSUED, LINE_OF_KIND, ReportQuery, line_sums, report


def entry(kind: str, delta: int, held_delta: int = 0) -> dict:
    return {"kind": kind, "delta": delta, "held_delta": held_delta}


def test_holds_and_releases_net_to_nothing_and_a_spend_from_a_hold_counts_as_redeemed():
    sums = line_sums([
        entry("grant", 500),
        entry("hold", -300, 300),
        entry("release", 100, -100),
        entry("spend", 0, -200),  # the held points spent
        entry("refund", 150),
    ])  # fmt: skip
    assert sums == {"grant": 500, "redeemed": -200, "returned": 150}


def test_a_royalty_reversal_comes_off_royalties_and_envelope_moves_net_per_user():
    sums = line_sums([entry("royalty", 40), entry("reversal", -40), entry("envelope_sent", -100),
                      entry("envelope_claim", 60), entry("envelope_refund", 40)])  # fmt: skip
    assert sums == {"royalty": 0, "envelope": 0}


def test_every_issuing_line_has_a_ledger_kind_that_feeds_it():
    assert set(ISSUED) <= set(LINE_OF_KIND.values())


def test_days_carry_the_outstanding_forward_from_the_opening_balance_and_empty_days_are_shown():
    by_day = {
        "2026-11-30": {"grant": 1000, "entries": 1},  # before the range: the opening balance
        "2026-12-01": {"earn": 5, "redeemed": -300, "entries": 2},
        "2026-12-03": {"returned": 100, "referral": 200, "entries": 2},
        "2026-12-09": {"grant": 99, "entries": 1},  # after the range: ignored
    }
    r = report("2026-12-01", "2026-12-03", by_day)
    assert r.opening_outstanding == 1000
    assert [(d.day, d.outstanding, d.liability_fen) for d in r.days] == [
        ("2026-12-01", 705, 7050),
        ("2026-12-02", 705, 7050),
        ("2026-12-03", 1005, 10050),
    ]
    first = r.days[0]
    assert (first.issued.earn, first.issued.total, first.redeemed, first.entries) == (5, 5, 300, 2)
    assert (r.totals.issued.total, r.totals.redeemed, r.totals.returned, r.totals.entries) == (205, 300, 100, 4)
    assert r.totals.outstanding == 1005 and r.totals.day == "2026-12-01..2026-12-03"


@pytest.mark.parametrize(
    "query, field",
    [
        ({"from": "2026-02-30"}, "not a date"),
        ({"to": "1999-12-31"}, "outside"),
        ({"from": "2026-12-05", "to": "2026-12-01"}, "after"),
        ({"from": "20261201"}, "pattern"),
    ],
)
def test_a_range_that_is_not_real_days_in_order_is_refused(query, field):
    with pytest.raises(ValidationError, match=field):
        ReportQuery.model_validate(query)


def test_a_range_of_real_days_in_order_is_taken():
    q = ReportQuery.model_validate({"from": "2026-12-01", "to": "2026-12-01"})
    assert (q.from_, q.to) == ("2026-12-01", "2026-12-01")
