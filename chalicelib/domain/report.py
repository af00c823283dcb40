"""The central bank's points report: per Asia/Shanghai day, points issued by source, redeemed, returned, expired
and outstanding, and the shop's liability for them in fen (unredeemed points are a liability, released on
redemption or expiry). Built from daily per-kind sums of ledger entries (delta + held_delta, so holds and releases,
which only move points between available and held, net to zero)."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal, Optional

from pydantic import Field, StringConstraints, model_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.money import FEN_PER_POINT

REPORT_SHARDS = 16  # a day's sums live on this many items, so a busy day does not serialise on one
MAX_REPORT_DAYS = 366
FIRST_DAY, LAST_DAY = "2000-01-01", "2100-12-31"  # the days a report may name
ISSUED = ("earn", "grant", "referral", "design_reward", "royalty", "event_reward", "envelope")
# ledger kind -> the report line it counts in (kinds not listed move nothing: hold, release)
LINE_OF_KIND = {
    "earn": "earn",
    "grant": "grant",
    "referral": "referral",
    "design_reward": "design_reward",
    "royalty": "royalty",
    "reversal": "royalty",
    "event_reward": "event_reward",
    "envelope_sent": "envelope",
    "envelope_claim": "envelope",
    "envelope_refund": "envelope",
    "spend": "redeemed",
    "refund": "returned",
    "merchant_payment": "redeemed",
    "merchant_refund": "returned",
    "tip_sent": "burned",  # a tip's two entries net to what it burned
    "tip_received": "burned",
    "expire": "expired",
}
BREAKAGE_DAYS = 365  # the trailing window the breakage rate is measured over
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class ReportQuery(Strict):
    from_: Optional[Day] = Field(
        default=None, alias="from", description="first day (Asia/Shanghai), YYYY-MM-DD; default 29 days before `to`"
    )
    to: Optional[Day] = Field(default=None, description="last day, YYYY-MM-DD; default today")

    @model_validator(mode="after")
    def _a_real_range(self) -> "ReportQuery":
        for name, value in (("from", self.from_), ("to", self.to)):
            if value is not None:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise ValueError(f"{name} is not a date") from None
                if not FIRST_DAY <= value <= LAST_DAY:
                    raise ValueError(f"{name} is outside {FIRST_DAY} to {LAST_DAY}")
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("from is after to")
        return self


class Issued(Model):
    earn: int = 0
    grant: int = 0
    referral: int = 0
    design_reward: int = 0
    royalty: int = Field(default=0, description="royalties credited, less any reversed")
    event_reward: int = 0
    envelope: int = Field(
        default=0,
        description="points reaching users through red envelopes, less what users put "
        "into envelopes (a user's envelope nets to 0 once claimed or "
        "returned; a campaign's counts as it is claimed)",
    )
    total: int = 0


class ReportDay(Model):
    day: str
    issued: Issued
    redeemed: int = Field(description="points spent on orders, registrations and at merchants (payment codes)")
    returned: int = Field(description="points given back by cancelled or refunded orders and merchants' refunds")
    expired: int = Field(
        default=0, description="points that expired (ledger `expire`; 0 while the policy has no expiry)"
    )
    burned: int = Field(default=0, description="points tips took out of circulation (the burn rate's share)")
    outstanding: int = Field(description="points users hold (available + held) at the end of the day")
    liability_fen: int = Field(description="outstanding × 10: what the points are worth in fen")
    liability_net_fen: int = Field(
        description="liability_fen × (1 − breakage_rate), rounded to the fen: what the bank expects to honour"
    )
    entries: int = Field(description="ledger entries counted on the day")


class ExpiringSoon(Model):
    days_30: int = Field(description="points in lots that expire within 30 days from now")
    days_60: int
    days_90: int


def expiring_soon(lot_totals: dict[str, int], now: dt.datetime) -> ExpiringSoon:
    """Points in the lots that expire within 30, 60 and 90 days of `now` (lots whose month is over are not)."""
    from chalicelib.domain.lots import expires_at

    ends = {lot: expires_at(lot) for lot, points in lot_totals.items() if points > 0}
    within = [
        sum(lot_totals[lot] for lot, end in ends.items() if now < end <= now + dt.timedelta(days=d))
        for d in (30, 60, 90)
    ]
    return ExpiringSoon(days_30=within[0], days_60=within[1], days_90=within[2])


class PointsReport(Model):
    first_day: str
    last_day: str
    opening_outstanding: int = Field(description="points outstanding before the first day")
    days: list[ReportDay]
    totals: ReportDay = Field(description="the range: sums of the flows, outstanding and liability at its end")
    breakage_rate: str = Field(
        description="expired ÷ (expired + redeemed) over the 365 days to last_day (0 when none), or the policy's "
        "expiry.breakage_rate; a decimal string"
    )
    breakage_source: Literal["trailing_12_months", "policy"]
    expiring: Optional[ExpiringSoon] = Field(
        default=None, description="points that expire within 30/60/90 days of now, by lot (as of now, not last_day)"
    )


def line_sums(entries: list[dict[str, Any]]) -> dict[str, int]:
    """{report line: sum of delta + held_delta} of ledger entries (or of stored day sums, which have the same keys)."""
    sums: dict[str, int] = {}
    for entry in entries:
        line = LINE_OF_KIND.get(entry["kind"])
        if line:
            sums[line] = sums.get(line, 0) + entry["delta"] + entry.get("held_delta", 0)
    return sums


def breakage(sums_by_day: dict[str, dict[str, int]], last: str, override: Optional[str] = None) -> Decimal:
    """IFRS 15 B39-B43: the share of points expected never to be redeemed, from what expired against what was redeemed
    over the trailing 365 days to `last` (0 when neither happened), unless the policy sets it."""
    if override is not None:
        return Decimal(override)
    since = (dt.date.fromisoformat(last) - dt.timedelta(days=BREAKAGE_DAYS - 1)).isoformat()
    window = [s for day, s in sums_by_day.items() if since <= day <= last]
    expired = -sum(s.get("expired", 0) for s in window)
    redeemed = -sum(s.get("redeemed", 0) for s in window)
    return Decimal(expired) / Decimal(expired + redeemed) if expired + redeemed > 0 else Decimal(0)


def net_of_breakage(liability_fen: int, rate: Decimal) -> int:
    return int((liability_fen * (1 - rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def report(
    first: str, last: str, sums_by_day: dict[str, dict[str, int]], breakage_override: Optional[str] = None
) -> PointsReport:
    """The report from `first` to `last` (days) out of every day's line sums so far (days before `first` make the
    opening balance; days after `last` are ignored). Each day's sums: {line: points, "entries": n}."""
    rate = breakage(sums_by_day, last, breakage_override)
    opening = sum(_net(s) for day, s in sums_by_day.items() if day < first)
    days, outstanding, totals = [], opening, {"entries": 0}
    day = dt.date.fromisoformat(first)
    while day.isoformat() <= last:
        sums = sums_by_day.get(day.isoformat(), {})
        outstanding += _net(sums)
        days.append(_day(day.isoformat(), sums, outstanding, rate))
        for k, v in sums.items():
            totals[k] = totals.get(k, 0) + v
        day += dt.timedelta(days=1)
    return PointsReport(
        first_day=first,
        last_day=last,
        opening_outstanding=opening,
        days=days,
        totals=_day(f"{first}..{last}", totals, outstanding, rate),
        breakage_rate=str(rate.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)),
        breakage_source="policy" if breakage_override is not None else "trailing_12_months",
    )


def _net(sums: dict[str, int]) -> int:
    return sum(v for k, v in sums.items() if k != "entries")


def _day(day: str, sums: dict[str, int], outstanding: int, rate: Decimal) -> ReportDay:
    issued = {line: sums.get(line, 0) for line in ISSUED}
    return ReportDay(
        day=day,
        issued=Issued(**issued, total=sum(issued.values())),
        redeemed=-sums.get("redeemed", 0),
        returned=sums.get("returned", 0),
        burned=-sums.get("burned", 0),
        outstanding=outstanding,
        expired=-sums.get("expired", 0),
        liability_fen=outstanding * FEN_PER_POINT,
        liability_net_fen=net_of_breakage(outstanding * FEN_PER_POINT, rate),
        entries=sums.get("entries", 0),
    )
