"""The central bank's issuance policy: every lever that sets how many points are issued (daily caps by tier, the
earning tasks, referral and design rewards, royalty rate, the host's share, envelope limits, ...) in immutable,
numbered versions with an effective date. A request at instant t is priced by the version in force at t."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional, Sequence

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.points import CampaignId, Tier, capped_award
from chalicelib.domain.text import OneLine

TIERS: tuple[Tier, ...] = ("fan", "deposit", "owner")
MAX_TASKS = 50
MAX_TASK_POINTS = 100_000
MAX_CAP = 1_000_000
MIN_LEAD_S = 60  # a version is scheduled at least this far ahead: every container's cached schedule holds it first
SCHEDULE_CACHE_S = 60  # how long a container trusts the schedule it read
MAX_SCHEDULED = 20  # versions waiting to take effect at once
VersionStatus = Literal["draft", "scheduled", "active", "superseded"]
TaskId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Rate = Annotated[str, StringConstraints(pattern=r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), OneLine]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), OneLine]
# The seed's community tasks (capped by the tier's daily cap) and car-life rewards (uncapped, their own per_day).
DEFAULT_TIP_CAPS: dict[Tier, int] = {"fan": 200, "deposit": 1000, "owner": 5000}
COMMUNITY_TASKS = ("checkin", "post", "comment", "share", "feedback", "review")
CAR_LIFE_TASKS = ("charging", "clean_energy", "no_claim_year", "car_interaction")


class TaskRule(Strict):
    title: Title
    title_zh: Title
    points: int = Field(ge=0, le=MAX_TASK_POINTS, description="points one completion pays (before the daily cap)")
    capped: bool = Field(description="counts towards the tier's daily cap (community tasks); else uncapped")
    per_day: int = Field(ge=1, le=100, description="completions paid per user per Asia/Shanghai day")
    tiers: list[Tier] = Field(min_length=1, max_length=3, description="tiers that may earn it")
    contribution: int = Field(default=0, ge=0, le=1000, description="contribution score paid with it")

    @field_validator("tiers")
    @classmethod
    def _distinct(cls, tiers: list[str]) -> list[str]:
        if len(set(tiers)) != len(tiers):
            raise ValueError("each tier may appear once")
        return tiers


class ReferralPoints(Strict):
    test_drive: int = Field(ge=1, le=MAX_TASK_POINTS * 10)
    purchase: int = Field(ge=1, le=MAX_TASK_POINTS * 10)


class EnvelopeLimits(Strict):
    daily_send_points: int = Field(ge=1, le=1_000_000_000, description="points one account may send a Shanghai day")


class TipRules(Strict):
    min_account_age_days: int = Field(default=7, ge=0, le=3650)
    burn_rate: Rate = Field(default="0.1", description="share of a tip that leaves circulation")
    daily_send_cap: dict[Tier, int] = Field(
        default_factory=lambda: dict(DEFAULT_TIP_CAPS), description="points a tier may tip a day"
    )
    daily_receive_cap: int = Field(default=20_000, ge=0, le=MAX_CAP)

    @field_validator("daily_send_cap")
    @classmethod
    def _every_tier(cls, caps: dict[str, int]) -> dict[str, int]:
        return _every_tier_once(caps)


class Expiry(Strict):
    months: int = Field(ge=1, le=60)
    breakage_rate: Optional[Rate] = Field(
        default=None, description="the report's breakage rate; left out, measured over the trailing 12 months"
    )


class Occasion(Strict):
    points: int = Field(ge=1, le=MAX_TASK_POINTS)
    campaign_id: CampaignId


class Occasions(Strict):
    birthday: Optional[Occasion] = None


class Policy(Strict):
    """One whole policy: a new version always states every lever."""

    daily_caps: dict[Tier, int] = Field(description="points a tier may earn from capped tasks per Shanghai day")
    tasks: dict[TaskId, TaskRule] = Field(min_length=1, max_length=MAX_TASKS)
    referral_points: ReferralPoints
    design_reward_points: int = Field(ge=0, le=MAX_TASK_POINTS)
    royalty_rate: Rate
    event_host_share: Rate
    envelopes: EnvelopeLimits
    tips: TipRules = Field(default_factory=TipRules)
    expiry: Optional[Expiry] = None
    occasions: Occasions = Field(default_factory=Occasions)

    @field_validator("daily_caps")
    @classmethod
    def _caps(cls, caps: dict[str, int]) -> dict[str, int]:
        if any(not 0 <= v <= MAX_CAP for v in caps.values()):
            raise ValueError(f"each cap is 0..{MAX_CAP}")
        return _every_tier_once(caps)

    @model_validator(mode="after")
    def _checks_in(self) -> "Policy":
        if "checkin" not in self.tasks:
            raise ValueError("tasks must include checkin (the daily check-in pays it)")
        return self


def _every_tier_once(values: dict[str, int]) -> dict[str, int]:
    missing = [t for t in TIERS if t not in values]
    if missing:
        raise ValueError(f"a value for every tier: missing {', '.join(missing)}")
    return values


class VersionInput(Strict):
    policy: Policy
    effective_from: str = Field(description="ISO 8601 time with a zone (Z or +08:00) the version takes effect at")
    note: Note = Field(description="why: shown in the history and the audit log")

    @field_validator("effective_from")
    @classmethod
    def _instant(cls, value: str) -> str:
        return iso_instant(value)


class Change(Model):
    path: str = Field(description="dotted path of the lever, e.g. tasks.post.points")
    before: Any = None
    after: Any = None


class PolicyVersion(Model):
    version: int
    status: VersionStatus
    effective_from: str
    note: str
    created_by: str
    created_at: str
    policy: Policy
    diff: Optional[list[Change]] = Field(
        default=None, description="against the version that would be in force at effective_from (new drafts)"
    )


class PolicyOverview(Model):
    in_force: PolicyVersion
    scheduled: list[PolicyVersion]


class VersionPage(Model):
    items: list[PolicyVersion]
    next_cursor: Optional[str]


class TaskView(TaskRule):
    task: str


class TaskList(Model):
    version: int
    items: list[TaskView]


def iso_instant(value: str) -> str:
    """An ISO 8601 time with a zone, as UTC milliseconds (the form the store sorts by)."""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("an ISO 8601 time with a zone, e.g. 2027-01-01T00:00:00+08:00") from None
    if moment.tzinfo is None:
        raise ValueError("give the time zone (Z or +08:00)")
    if not 2000 <= moment.year <= 2100:
        raise ValueError("between the years 2000 and 2100")
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Scheduled:
    """One entry of the schedule: a version and the instant it takes effect."""

    version: int
    effective_from: str  # UTC ISO milliseconds


def in_force(schedule: Sequence[Scheduled], at: str) -> Scheduled:
    """The version in force at instant `at`: the latest effective_from at or before it (the schedule always holds
    version 1, in force from the start of time)."""
    found = [s for s in schedule if s.effective_from <= at]
    return max(found, key=lambda s: (s.effective_from, s.version))


def status_at(entry: Scheduled, schedule: Sequence[Scheduled], at: str) -> VersionStatus:
    """A scheduled version's status at `at`: waiting, in force, or superseded by a later one in force."""
    if entry.effective_from > at:
        return "scheduled"
    return "active" if in_force(schedule, at) == entry else "superseded"


def schedule_problem(schedule: Sequence[Scheduled], effective_from: str, now: str) -> Optional[str]:
    """Why a version may not be scheduled at `effective_from` now, or None."""
    lead = dt.datetime.fromisoformat(effective_from.replace("Z", "+00:00")) - dt.datetime.fromisoformat(
        now.replace("Z", "+00:00")
    )
    if lead < dt.timedelta(seconds=MIN_LEAD_S):
        return f"effective_from must be at least {MIN_LEAD_S} s ahead, so every server knows it before it starts"
    if any(s.effective_from == effective_from for s in schedule):
        return "another version takes effect at that very instant; pick another time"
    if sum(1 for s in schedule if s.effective_from > now) >= MAX_SCHEDULED:
        return f"at most {MAX_SCHEDULED} versions may wait to take effect"
    return None


def diff(before: Policy, after: Policy) -> list[Change]:
    """Every lever that differs, by dotted path (a task added or removed is one change)."""
    changes: list[Change] = []
    _walk("", before.model_dump(mode="json"), after.model_dump(mode="json"), changes)
    return changes


def _walk(path: str, a: Any, b: Any, out: list[Change]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            sub = f"{path}.{k}" if path else k
            if k not in a or k not in b:
                out.append(Change(path=sub, before=a.get(k), after=b.get(k)))
            else:
                _walk(sub, a[k], b[k], out)
    elif a != b:
        out.append(Change(path=path, before=a, after=b))


PAID_ELSEWHERE = {"checkin": "POST /me/checkins", "review": "an approved review"}


def task_award(task: TaskRule, tier: str, earned_today: int, daily_cap: int) -> int:
    """What one completion pays a user of `tier` who earned `earned_today` from capped tasks today: nothing for a
    tier the task is not for, at most what the cap leaves for a capped task, its points for an uncapped one."""
    if tier not in task.tiers:
        return 0
    return capped_award(task.points, earned_today, daily_cap) if task.capped else task.points


def rate(value: str) -> Decimal:
    return Decimal(value)


def first_policy(
    daily_caps: dict[str, int],
    task_points: dict[str, int],
    referral_points: dict[str, int],
    design_reward_points: int,
    royalty_rate: str,
    event_host_share: str,
    envelope_daily_send_points: int,
) -> Policy:
    """Version 1, from the deploy-time defaults: the seed's community tasks (capped, once a day for the check-in,
    a few times for the rest) and its car-life rewards (uncapped, owners, their own per_day)."""
    community = {
        "checkin": ("Daily check-in", "每日签到", 1),
        "post": ("Post", "发帖", 5),
        "comment": ("Comment", "评论", 10),
        "share": ("Share", "分享", 10),
        "feedback": ("Product feedback", "产品反馈", 3),
        "review": ("Product review", "商品评价", 5),
    }
    tasks: dict[str, TaskRule] = {
        name: TaskRule(
            title=title,
            title_zh=title_zh,
            points=task_points.get(name, 5 if name == "review" else 1),
            capped=True,
            per_day=per_day,
            tiers=list(TIERS),
        )
        for name, (title, title_zh, per_day) in community.items()
    }
    car_life = {
        "charging": ("Charging on the network", "使用充电网络", 2, 3),
        "clean_energy": ("Clean energy charging", "绿电充电", 2, 3),
        "no_claim_year": ("A claim-free insurance year", "全年无出险", 500, 1),
        "car_interaction": ("In-car interaction", "车机互动", 1, 5),
    }
    for name, (title, title_zh, points, per_day) in car_life.items():
        tasks[name] = TaskRule(
            title=title, title_zh=title_zh, points=points, capped=False, per_day=per_day, tiers=["owner"]
        )
    return Policy(
        daily_caps={t: daily_caps[t] for t in TIERS},
        tasks=tasks,
        referral_points=ReferralPoints(**referral_points),
        design_reward_points=design_reward_points,
        royalty_rate=royalty_rate,
        event_host_share=event_host_share,
        envelopes=EnvelopeLimits(daily_send_points=envelope_daily_send_points),
    )


# -- dry-run: what the last days would have issued under a version ----------------------------------------------
LEVER_SOURCES = ("earn", "referral", "design_reward", "royalty", "event_reward")


@dataclass(frozen=True)
class Completion:
    """A task completion as recorded (paid or not): who, which task, their tier then, when, what it paid."""

    user_id: str
    task: str
    tier: str
    day: str
    at: str
    paid: int


@dataclass(frozen=True)
class LeverEntry:
    """A ledger entry a lever priced (referral, design reward, royalty or its reversal, event reward)."""

    kind: str
    ref: str
    delta: int
    at: str


def replay(completions: Sequence[Completion], policy: Policy) -> int:
    """What `completions` would have paid under `policy`: each user's day in order, with its caps and per_day."""
    total = 0
    by_user_day: dict[tuple[str, str], list[Completion]] = {}
    for c in completions:
        by_user_day.setdefault((c.user_id, c.day), []).append(c)
    for done in by_user_day.values():
        earned, counted = 0, dict[str, int]()  # capped points earned; paid completions per task
        for c in sorted(done, key=lambda c: c.at):
            task = policy.tasks.get(c.task)
            if task is None or counted.get(c.task, 0) >= task.per_day:
                continue
            cap = next((v for t, v in policy.daily_caps.items() if t == c.tier), 0)
            paid = task_award(task, c.tier, earned, cap)
            if paid:
                counted[c.task] = counted.get(c.task, 0) + 1
                earned += paid if task.capped else 0
                total += paid
    return total


def source_of(kind: str) -> str:
    return "royalty" if kind == "reversal" else kind


def reprice(entry: LeverEntry, then: Policy, new: Policy) -> int:
    """What a lever-priced entry would have been under `new`, given the policy `then` that priced it (rates scale
    the entry, rounded towards zero as the rules round)."""
    if entry.kind == "referral":
        kind = entry.ref.split(":")[1] if entry.ref.count(":") >= 2 else ""
        return int(getattr(new.referral_points, kind, entry.delta))
    if entry.kind == "design_reward":
        return new.design_reward_points
    old_rate, new_rate = (
        (rate(then.royalty_rate), rate(new.royalty_rate))
        if entry.kind in ("royalty", "reversal")
        else (rate(then.event_host_share), rate(new.event_host_share))
    )
    if old_rate == 0:
        return entry.delta
    return int(Decimal(entry.delta) * new_rate / old_rate)


class SourceRow(Model):
    source: str
    issued: int = Field(description="points issued from this source over the days")
    would_issue: int = Field(description="what the version would have issued from the same activity")
    change: int


class DryRun(Model):
    version: int
    first_day: str
    last_day: str
    sources: list[SourceRow]
    issued: int
    would_issue: int
    change: int
    liability_change_fen: int = Field(description="change × 10: what the change adds to (or takes off) the liability")
    covers: str = Field(description="what the figures replay, and what they leave out")


class DryRunQuery(Model):  # a query string: "30" is the number 30
    model_config = ConfigDict(extra="forbid", defer_build=True)

    days: int = Field(default=30, ge=1, le=90, description="the last N Shanghai days, today included")


def dry_run(
    version: int,
    first: str,
    last: str,
    completions: Sequence[Completion],
    entries: Sequence[LeverEntry],
    policy_then: Any,
    new: Policy,
) -> DryRun:
    """Issued against would-issue, by source. `policy_then(at)` is the policy that was in force at an instant."""
    issued = dict.fromkeys(LEVER_SOURCES, 0)
    would = dict.fromkeys(LEVER_SOURCES, 0)
    issued["earn"] = sum(c.paid for c in completions)
    would["earn"] = replay(completions, new)
    for e in entries:
        issued[source_of(e.kind)] += e.delta
        would[source_of(e.kind)] += reprice(e, policy_then(e.at), new)
    rows = [SourceRow(source=s, issued=issued[s], would_issue=would[s], change=would[s] - issued[s]) for s in issued]
    change = sum(r.change for r in rows)
    return DryRun(
        version=version,
        first_day=first,
        last_day=last,
        sources=rows,
        issued=sum(issued.values()),
        would_issue=sum(would.values()),
        change=change,
        liability_change_fen=change * 10,
        covers="task completions (caps, per_day and tiers replayed in order, per user and day), referrals, design "
        "rewards, royalties and event rewards; grants and red envelopes are not priced by the policy",
    )


# -- what the store holds ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VersionRecord:
    """A version as stored: its policy never changes; its status is draft until it is scheduled."""

    version: int
    status: Literal["draft", "scheduled"]
    effective_from: str
    note: str
    created_by: str
    created_at: str
    policy: Policy

    @property
    def entry(self) -> Scheduled:
        return Scheduled(self.version, self.effective_from)


@dataclass(frozen=True)
class Head:
    """The schedule every container reads: each version in force or waiting, with its policy."""

    revision: int
    next_version: int
    entries: tuple[tuple[Scheduled, Policy], ...]
    founded: bool = True  # False: nothing was written yet (version 1 from the settings)

    @property
    def schedule(self) -> list[Scheduled]:
        return [s for s, _ in self.entries]

    def policy_of(self, version: int) -> Policy:
        return next(p for s, p in self.entries if s.version == version)
