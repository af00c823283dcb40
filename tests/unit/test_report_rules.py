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


def test_breakage_is_expired_over_expired_plus_redeemed_in_the_trailing_year_and_nets_the_liability():
    by_day = {
        "2025-11-30": {"grant": 10_000, "expired": -9_000, "entries": 2},  # more than 365 days before: left out
        "2025-12-07": {"grant": 2_000, "entries": 1},
        "2026-03-01": {"redeemed": -600, "expired": -200, "entries": 2},
        "2026-12-06": {"redeemed": -200, "entries": 1},
    }
    r = report("2026-12-06", "2026-12-06", by_day)
    assert (r.breakage_rate, r.breakage_source) == ("0.2000", "trailing_12_months")  # 200 / (200 + 800)
    day = r.days[0]
    assert (day.outstanding, day.liability_fen, day.liability_net_fen) == (2_000, 20_000, 16_000)
    assert r.totals.liability_net_fen == 16_000 and (r.totals.expired, r.totals.redeemed) == (0, 200)
    assert report("2026-03-01", "2026-03-01", by_day).days[0].expired == 200


def test_no_expiry_and_no_redemption_is_no_breakage_and_a_policy_rate_overrides():
    by_day = {"2026-12-01": {"grant": 333, "entries": 1}}
    plain = report("2026-12-01", "2026-12-01", by_day)
    assert plain.breakage_rate == "0.0000" and plain.totals.liability_net_fen == plain.totals.liability_fen == 3_330
    fixed = report("2026-12-01", "2026-12-01", by_day, "0.15")
    assert (fixed.breakage_rate, fixed.breakage_source) == ("0.1500", "policy")
    assert fixed.totals.liability_net_fen == 2_831  # 3,330 × 0.85 = 2,830.5, half up
