"""The points economy: tiers, daily earning caps, VINs, and what a ledger entry is."""

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Annotated, Literal, Optional, Sequence

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.text import OneLine

Tier = Literal["fan", "deposit", "owner"]
TIER_RANK = {"fan": 0, "deposit": 1, "owner": 2}


def tier_allows(tier: str, min_tier: str) -> bool:
    return TIER_RANK.get(tier, 0) >= TIER_RANK[min_tier]


TaskName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
LedgerKind = Literal[
    "earn",
    "grant",
    "referral",
    "hold",
    "release",
    "spend",
    "refund",
    "royalty",
    "design_reward",
    "reversal",
    "event_reward",
    "envelope_sent",
    "envelope_claim",
    "envelope_refund",
    "merchant_payment",
    "merchant_refund",
    "tip_sent",
    "tip_received",
    "expire",
    "lots_opened",
    "lots_closed",
]
USER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
UserId = Annotated[str, StringConstraints(pattern=USER_ID_PATTERN)]
Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9:._#/-]{1,128}$")]
CampaignId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")]
MAX_GRANT_POINTS = 10_000_000
MAX_BUDGET_POINTS = 10_000_000_000

# Shanghai has kept UTC+8 without daylight saving since 1991; a fixed offset needs no tz database on Lambda.
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def is_user_id(value: str) -> bool:
    return re.fullmatch(USER_ID_PATTERN, value) is not None


def shanghai_day(moment: dt.datetime) -> str:
    if moment.tzinfo is dt.timezone.utc and moment.hour < 16:  # before 16:00 UTC, Shanghai (UTC+8) has the same date
        return moment.date().isoformat()
    return moment.astimezone(SHANGHAI).date().isoformat()


def capped_award(task_points: int, earned_today: int, daily_cap: int) -> int:
    """What an award pays under the day's cap: all of it, part of it, or 0 (never an error)."""
    return max(0, min(task_points, daily_cap - earned_today))


@dataclass(frozen=True)
class Entry:
    """A ledger entry to write: how available and held points change, and why."""

    delta: int
    kind: str
    ref: str
    held_delta: int = 0


@dataclass(frozen=True)
class Profile:
    """A user's account: tier, balances and today's earning. `version` is what a change compares and swaps;
    `stored` is False for a user the store has not seen yet."""

    user_id: str
    tier: Tier = "fan"
    points_available: int = 0
    points_held: int = 0
    earned_day: str = ""
    earned_today: int = 0
    pending_orders: int = 0  # open pending_payment orders (holding stock until paid or expired)
    sent_day: str = ""  # the Shanghai day of the last red envelope sent from these points, and the points sent that day
    sent_today: int = 0
    tipped_day: str = ""  # the Shanghai day of the last tip sent, and the points tipped that day
    tipped_today: int = 0
    tips_day: str = ""  # the Shanghai day of the last tip received, and the points tipped to this user that day
    tips_today: int = 0
    created_at: str = ""
    version: int = 0
    stored: bool = True
    vin: Optional[str] = None
    verified_by: Optional[str] = None
    verified_at: Optional[str] = None
    lots: Optional[dict[str, int]] = None  # with expiry on: lot -> points (Σ = available + held); None: not kept
    lots_run: str = ""  # the opening lot of the expiry run the lots were kept in (another run's lots are reopened)
    lapsed: Optional[dict[str, int]] = None  # not stored: lots that expired since the stored version (settled)

    def earned_on(self, day: str) -> int:
        return self.earned_today if self.earned_day == day else 0

    def sent_on(self, day: str) -> int:
        return self.sent_today if self.sent_day == day else 0

    def tipped_on(self, day: str) -> int:
        return self.tipped_today if self.tipped_day == day else 0

    def tipped_to_on(self, day: str) -> int:
        return self.tips_today if self.tips_day == day else 0

    def earning_day(self, clock_day: str) -> str:
        """The Shanghai day an award counts against: never earlier than the day the profile last earned on, so
        two containers whose clocks straddle midnight cannot each start a fresh day's cap."""
        return max(clock_day, self.earned_day)

    def posted(self, entries: Sequence[Entry], pending_orders: int = 0) -> "Profile":
        """The balances after `entries`, and the count of open pending orders moved by `pending_orders`
        (never below 0: orders placed before the count existed are not in it)."""
        return replace(
            self,
            points_available=self.points_available + sum(e.delta for e in entries),
            points_held=self.points_held + sum(e.held_delta for e in entries),
            pending_orders=max(0, self.pending_orders + pending_orders),
        )

    def awarded(self, day: str, task_points: int, daily_cap: int) -> tuple[int, "Profile"]:
        """What an earning task pays under the day's cap, and the profile after it."""
        day = self.earning_day(day)
        earned = self.earned_on(day)
        award = capped_award(task_points, earned, daily_cap)
        return award, replace(
            self, earned_day=day, earned_today=earned + award, points_available=self.points_available + award
        )


# -- VINs (ISO 3779; check digit per North American and Chinese GB 16735 rules) -------------------
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=False)),
    **dict(zip("JKLMN", range(1, 6), strict=False)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=False)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Regions whose standard makes position 9 a check digit: North America (1-5) and China (L).
_CHECK_DIGIT_REGIONS = set("12345L")


def vin_check_digit(vin: str) -> str:
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=False))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_problem(vin: str) -> Optional[str]:
    """None for a valid VIN, else what is wrong with it."""
    if len(vin) != 17:
        return "a VIN has exactly 17 characters"
    if any(c not in _VIN_VALUES for c in vin):
        return "a VIN uses digits and capital letters except I, O and Q"
    if vin[0] in _CHECK_DIGIT_REGIONS and vin[8] != vin_check_digit(vin):
        return f"the check digit (9th character) should be {vin_check_digit(vin)}"
    return None


class TierChange(Strict):
    tier: Tier
    vin: Optional[Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=32)]] = Field(
        default=None, validate_default=True, description="required for tier owner: the verified vehicle's VIN"
    )

    @field_validator("vin")
    @classmethod
    def _owner_needs_a_valid_vin(cls, vin: Optional[str], info: ValidationInfo) -> Optional[str]:
        tier = info.data.get("tier")
        if tier == "owner":
            if not vin:
                raise ValueError("vin is required to verify an owner")
            problem = vin_problem(vin)
            if problem:
                raise ValueError(f"vin is not valid: {problem}")
        elif vin:
            raise ValueError("vin is only given for tier owner")
        return vin


class EarnRequest(Strict):
    user_id: UserId
    task: TaskName = Field(description="any task of the policy in force (GET /admin/tasks) but checkin and review")
    ref: Ref


class Awarded(Model):
    points_awarded: int


class CheckinResult(Model):
    points_awarded: int
    available: int


class PointsBalance(Model):
    available: int
    held: int


class Expiring(Model):
    points: int = Field(description="points in the lot that expires next")
    at: str = Field(description="when they expire (the first moment of the next month in Shanghai, UTC)")


class Me(Model):
    user_id: str
    tier: Tier
    points: PointsBalance
    earned_today: int
    daily_cap: int
    contribution: int = Field(description="contribution score (贡献值): earned once per source, never spent")
    vote_weight: int = Field(description="what your design votes count for, from your contribution")
    expiring: Optional[Expiring] = Field(
        default=None, description="the next lot to expire; null when points do not expire or none are kept"
    )


class Lot(Model):
    lot: str = Field(description="YYYY-MM: the month at whose end (Asia/Shanghai) its points expire")
    points: int
    expires_at: str


class LotList(Model):
    items: list[Lot] = Field(description="live lots, the earliest-expiring first (spent first)")
    total: int = Field(description="Σ points in the lots: available + held")
    expiry_months: Optional[int] = Field(description="the policy in force: months a lot lives; null: no expiry")


class LedgerEntry(Model):
    entry_id: str
    delta: int = Field(description="change of available points")
    held_delta: int = Field(default=0, description="change of held points (holds, releases, spends of a hold)")
    kind: LedgerKind
    ref: str
    available_after: int
    created_at: str


class LedgerPage(Model):
    items: list[LedgerEntry]
    next_cursor: Optional[str]


class UserTier(Model):
    user_id: str
    tier: Tier
    vin: Optional[str] = None
    verified_by: Optional[str] = None
    verified_at: Optional[str] = None


class CampaignInput(Strict):
    campaign_id: CampaignId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), OneLine]
    budget_points: int = Field(gt=0, le=MAX_BUDGET_POINTS)


class Campaign(Model):
    campaign_id: str
    name: str
    budget_points: int
    issued_points: int
    remaining_points: int
    created_at: str
    created_by: str


class CampaignPage(Model):
    items: list[Campaign]
    next_cursor: Optional[str]


class GrantInput(Strict):
    user_id: UserId
    points: int = Field(gt=0, le=MAX_GRANT_POINTS)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]
    ref: Ref


class Grant(Model):
    grant_id: str
    campaign_id: str
    user_id: str
    points: int
    reason: str
    ref: str
    created_at: str


class ReferralInput(Strict):
    referrer_id: UserId
    referee_id: UserId
    kind: Literal["test_drive", "purchase"]


class Referral(Model):
    referrer_id: str
    referee_id: str
    kind: str
    points: int
    created_at: str


# -- occasions: a user's birthday (the seed's 车主生日关怀) ---------------------------------------------------
BIRTHDAY_CHANGE_DAYS = 365  # a birthday may be changed once a year (so it cannot be moved to collect twice)
BIRTHDAY_NOTICE_DAYS = 30  # a birthday set closer to the day than this waits a year (new accounts farming it)


class ProfileInput(Strict):
    birthday: Annotated[str, StringConstraints(pattern=r"^\d{2}-\d{2}$")] = Field(
        description="MM-DD; changeable once a year. 02-29 is celebrated on 02-28 in other years"
    )

    @field_validator("birthday")
    @classmethod
    def _a_real_day(cls, value: str) -> str:
        try:
            dt.date.fromisoformat(f"2000-{value}")  # a leap year: 02-29 is a day
        except ValueError:
            raise ValueError("not a day of the year (MM-DD)") from None
        return value


class ProfileView(Model):
    user_id: str
    birthday: Optional[str]
    changeable_from: Optional[str] = Field(description="when the birthday may be changed again")


def birthdays_on(day: str) -> list[str]:
    """The birthdays (MM-DD) celebrated on a Shanghai day: its own, and 02-29 on 02-28 of a year without one."""
    date = dt.date.fromisoformat(day)
    found = [day[5:]]
    if day[5:] == "02-28" and not _leap(date.year):
        found.append("02-29")
    return found


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
