"""Pure rules of paying at merchants: the code's shape and check digit, a payment's status, statement sums."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.merchants import (
    StatementQuery,
    code_problem,
    luhn_digit,
    new_code,
    payment_status,
    settlements,
    statement,
)


def test_codes_are_18_digits_with_the_prefix_and_a_luhn_digit_from_the_random_source():
    draws = iter([0, 10**15 - 1, 123_456_789])
    codes = [new_code(lambda n: next(draws)) for _ in range(3)]
    assert codes[0] == "66" + "0" * 15 + luhn_digit("66" + "0" * 15)
    assert codes[1].startswith("66999999999999999")
    assert all(len(c) == 18 and code_problem(c) is None for c in codes)
    assert luhn_digit("7992739871") == "3"  # the textbook example


@pytest.mark.parametrize(
    "code, problem",
    [
        ("12345", "18 digits"),
        ("６６" + "0" * 16, "18 digits"),
        ("77" + "0" * 16, "not a Lifeshop"),
    ],
)
def test_a_malformed_code_says_what_is_wrong(code, problem):
    assert problem in code_problem(code)


def test_every_single_digit_typo_and_most_swaps_fail_the_check():
    code = new_code(lambda n: 314159265358979)
    for i in range(2, 18):
        for d in "0123456789":
            if d != code[i]:
                assert code_problem(code[:i] + d + code[i + 1 :]) is not None


@pytest.mark.parametrize(
    "points, refunded, status",
    [(300, 0, "captured"), (300, 1, "partially_refunded"), (300, 299, "partially_refunded"), (300, 300, "refunded")],
)
def test_a_payments_status_follows_its_refunded_points(points, refunded, status):
    assert payment_status(points, refunded) == status


def test_a_statement_sums_days_in_range_and_owes_ten_fen_a_point():
    days = {
        "2026-12-01": {"payments": 2, "redeemed": 500, "refunds": 0, "refunded": 0},
        "2026-12-02": {"payments": 0, "redeemed": 0, "refunds": 1, "refunded": 120},
        "2026-12-09": {"payments": 9, "redeemed": 9_000},
    }
    s = statement({"merchant_id": "m", "name": "M"}, "2026-12-01", "2026-12-05", days)
    assert [(d.day, d.net, d.fen_owed) for d in s.days] == [("2026-12-01", 500, 5_000), ("2026-12-02", -120, -1_200)]
    assert (s.totals.redeemed, s.totals.refunded, s.totals.net, s.totals.fen_owed) == (500, 120, 380, 3_800)
    both = settlements("2026-12-01", "2026-12-05", [s, s])
    assert (both.totals.payments, both.totals.fen_owed) == (4, 7_600)


def test_a_statement_range_defaults_to_thirty_days_and_is_at_most_92():
    assert StatementQuery().days("2026-12-06") == ("2026-11-07", "2026-12-06")
    assert StatementQuery.model_validate({"from": "2026-12-01"}).days("2026-11-20") == ("2026-12-01", "2026-12-01")
    assert StatementQuery.model_validate({"from": "2026-09-06", "to": "2026-12-06"}).days("x") == (
        "2026-09-06",
        "2026-12-06",
    )
    with pytest.raises(InvalidRequest):
        StatementQuery.model_validate({"from": "2026-09-05", "to": "2026-12-06"}).days("x")
    with pytest.raises(ValidationError):
        StatementQuery.model_validate({"from": "2026-12-07", "to": "2026-12-06"})
