"""Merchants beyond the shop that take points (NIO House counters and rooms, charging, car rental), whom the bank
settles with; their staff act with tokens of group `merchant` naming their `merchant_id`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Callable, Literal, Optional

from pydantic import AfterValidator, Field, StringConstraints

from chalicelib.domain.auth import MERCHANT_ID
from chalicelib.domain.base import Model, Strict
from chalicelib.domain.catalog import ShortText
from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.money import FEN_PER_POINT
from chalicelib.domain.report import ReportQuery
from chalicelib.domain.text import OneLine

MerchantId = Annotated[str, StringConstraints(pattern=f"^{MERCHANT_ID.pattern}$")]
MerchantKind = Literal["nio_house", "charging", "rental"]


class MerchantInput(Strict):
    merchant_id: MerchantId
    name: ShortText
    name_zh: ShortText
    kind: MerchantKind


class Merchant(Model):
    merchant_id: str
    name: str
    name_zh: str
    kind: MerchantKind
    created_at: str
    created_by: Optional[str] = Field(default=None, description="merchandisers only")


class MerchantPage(Model):
    items: list[Merchant]
    next_cursor: Optional[str]


# -- payment codes -------------------------------------------------------------------------------------------
CODE_PREFIX = "66"  # Lifeshop's codes: 2 digits of prefix, 15 random, 1 Luhn check digit (18 in all)
CODE_RANDOM_DIGITS = 15
CODE_TTL_S = 60
MAX_PAYMENT_POINTS = 100_000  # 1,000 yuan at the counter: one payment, one code
MAX_STATEMENT_DAYS = 92
PaymentStatus = Literal["captured", "partially_refunded", "refunded"]


def luhn_digit(body: str) -> str:
    """The check digit that makes `body` + digit pass the Luhn check (catches one mistyped or swapped digit)."""
    total = 0
    for n, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if n % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def new_code(random_below: Callable[[int], int]) -> str:
    """A fresh payment code from a secure `random_below(n)` (secrets.randbelow): about 50 bits of chance."""
    body = CODE_PREFIX + str(random_below(10**CODE_RANDOM_DIGITS)).zfill(CODE_RANDOM_DIGITS)
    return body + luhn_digit(body)


def code_problem(code: str) -> Optional[str]:
    """None for a well-formed code, else what is wrong (checked before any read: a typo never reaches the store)."""
    if len(code) != 18 or not code.isascii() or not code.isdigit():
        return "a payment code is 18 digits"
    if not code.startswith(CODE_PREFIX) or luhn_digit(code[:-1]) != code[-1]:
        return "this is not a Lifeshop payment code (check the digits)"
    return None


def payment_status(points: int, refunded: int) -> PaymentStatus:
    if refunded <= 0:
        return "captured"
    return "refunded" if refunded >= points else "partially_refunded"


def _code(value: str) -> str:
    problem = code_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Code = Annotated[str, AfterValidator(_code)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), OneLine]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]


class PaymentCode(Model):
    code: str = Field(description="18 digits, shown once: the merchant scans or types it")
    expires_at: str


class PaymentInput(Strict):
    code: Code
    points: int = Field(ge=1, le=MAX_PAYMENT_POINTS)
    reference: Reference = Field(description="the merchant's own receipt or till number")
    description: Optional[Description] = None


class RefundInput(Strict):
    points: int = Field(ge=1, le=MAX_PAYMENT_POINTS, description="at most what is left of the payment")
    reason: Description


class PaymentRefund(Model):
    refund_id: str
    payment_id: str
    points: int
    reason: str
    created_at: str


class Payment(Model):
    payment_id: str
    merchant_id: str
    points: int
    refunded_points: int
    status: PaymentStatus
    reference: str
    description: Optional[str] = None
    captured_at: str
    refunds: list[PaymentRefund] = Field(default_factory=list)


class PaymentPage(Model):
    items: list[Payment]
    next_cursor: Optional[str]


class StatementQuery(ReportQuery):
    """`from` and `to` as the points report takes them (Shanghai days), at most MAX_STATEMENT_DAYS apart."""

    def days(self, today: str) -> tuple[str, str]:
        """The range asked for (at most MAX_STATEMENT_DAYS days), `today` filling what is left out."""
        last = self.to or (max(today, self.from_) if self.from_ else today)
        first = self.from_ or (dt.date.fromisoformat(last) - dt.timedelta(days=29)).isoformat()
        if (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1 > MAX_STATEMENT_DAYS:
            raise InvalidRequest(
                f"a statement covers at most {MAX_STATEMENT_DAYS} days; ask for {first} to {last} in parts",
                {"fields": {"from": f"at most {MAX_STATEMENT_DAYS} days before to"}},
            )
        return first, last


class StatementDay(Model):
    day: str
    payments: int = Field(description="payments captured on the day")
    refunds: int
    redeemed: int = Field(description="points captured")
    refunded: int = Field(description="points given back (on the day of the refund, whatever day it paid)")
    net: int = Field(description="redeemed - refunded")
    fen_owed: int = Field(description="net × 10: what the bank pays the merchant for the day, in fen")


class Statement(Model):
    merchant_id: str
    name: str
    first_day: str
    last_day: str
    days: list[StatementDay] = Field(description="days with payments or refunds, oldest first")
    totals: StatementDay


class Settlements(Model):
    first_day: str
    last_day: str
    merchants: list[Statement] = Field(description="merchants with payments or refunds in the range")
    totals: StatementDay


def statement_day(day: str, sums: dict[str, int]) -> StatementDay:
    redeemed, refunded = sums.get("redeemed", 0), sums.get("refunded", 0)
    return StatementDay(
        day=day,
        payments=sums.get("payments", 0),
        refunds=sums.get("refunds", 0),
        redeemed=redeemed,
        refunded=refunded,
        net=redeemed - refunded,
        fen_owed=(redeemed - refunded) * FEN_PER_POINT,
    )


def statement(merchant: dict[str, Any], first: str, last: str, days: dict[str, dict[str, int]]) -> Statement:
    """A merchant's statement from its day sums ({day: {redeemed, refunded, payments, refunds}})."""
    inside = sorted(d for d in days if first <= d <= last)
    totals: dict[str, int] = {}
    for d in inside:
        for k, v in days[d].items():
            totals[k] = totals.get(k, 0) + v
    return Statement(
        merchant_id=merchant["merchant_id"],
        name=merchant.get("name", merchant["merchant_id"]),
        first_day=first,
        last_day=last,
        days=[statement_day(d, days[d]) for d in inside],
        totals=statement_day(f"{first}..{last}", totals),
    )


def settlements(first: str, last: str, statements: list[Statement]) -> Settlements:
    sums = {k: sum(getattr(s.totals, k) for s in statements) for k in ("payments", "refunds", "redeemed", "refunded")}
    return Settlements(
        first_day=first, last_day=last, merchants=statements, totals=statement_day(f"{first}..{last}", sums)
    )
