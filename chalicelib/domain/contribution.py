"""The contribution score (贡献值): what a user gives the community, earned once per source, never spent; it
weighs that user's design votes."""

import bisect
from typing import Annotated, Optional, Sequence

from pydantic import Field, StringConstraints, field_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.points import Ref, UserId

# Sources the shop itself pays (amounts: Settings.contribution_points); community events pay the event sources
# (chalicelib/services/host_rewards.py: settlement; chalicelib/services/checkin.py: check-in).
DESIGN_APPROVED = "design_approved"
DESIGN_PRODUCTIZED = "design_productized"
EVENT_HOSTED = "event_hosted"  # a user-hosted event settled: its host
EVENT_ATTENDED = "event_attended"  # checked in at an event: the attendee
BUILT_IN_KINDS = (DESIGN_APPROVED, DESIGN_PRODUCTIZED, EVENT_HOSTED, EVENT_ATTENDED)
DEFAULT_POINTS = {DESIGN_APPROVED: 50, DESIGN_PRODUCTIZED: 200, EVENT_HOSTED: 100, EVENT_ATTENDED: 5}
DEFAULT_WEIGHT_THRESHOLDS = (100, 1_000, 10_000)  # weight 1 below 100, 2 from 100, 3 from 1,000, 4 from 10,000
MAX_AMOUNT = 10_000  # one award; corrections downwards do not exist (the score never goes down)
MAX_THRESHOLDS = 9  # weights 1..10
KIND_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"


def vote_weight(contribution: int, thresholds: Sequence[int]) -> int:
    """1 plus the number of thresholds the contribution has reached."""
    return 1 + bisect.bisect_right(list(thresholds), contribution)


def next_threshold(contribution: int, thresholds: Sequence[int]) -> Optional[int]:
    """The contribution at which the weight would grow next (None: already the highest weight)."""
    ahead = [t for t in thresholds if t > contribution]
    return ahead[0] if ahead else None


def threshold_problem(thresholds: Sequence[int]) -> Optional[str]:
    """None for a usable list of weight thresholds, else what is wrong with it."""
    if len(thresholds) > MAX_THRESHOLDS:
        return f"at most {MAX_THRESHOLDS} thresholds (weights 1 to {MAX_THRESHOLDS + 1})"
    if any(t < 1 for t in thresholds) or any(a >= b for a, b in zip(thresholds, thresholds[1:], strict=False)):
        return "thresholds are whole numbers >= 1, strictly increasing"
    return None


class ContributionRequest(Strict):
    """An award from another service of the platform (group `service`)."""

    user_id: UserId
    kind: Annotated[str, StringConstraints(pattern=KIND_PATTERN)] = Field(
        description="what was given, e.g. `forum_answer`; the shop's own kinds ("
        + ", ".join(BUILT_IN_KINDS)
        + ") are not accepted here"
    )
    ref: Ref = Field(description="the source: with kind and user, earned once")
    amount: int = Field(ge=1, le=MAX_AMOUNT)

    @field_validator("kind")
    @classmethod
    def _not_a_built_in_kind(cls, kind: str) -> str:
        if kind in BUILT_IN_KINDS:
            raise ValueError(f"{kind} is earned by the shop itself, not through this call")
        return kind


class ContributionEntry(Model):
    entry_id: str
    user_id: str
    kind: str
    ref: str
    amount: int
    created_at: str


class Earned(Model):
    entry: ContributionEntry
    created: bool = Field(description="false: this source had already earned; `entry` is the first award")


class ContributionLedgerPage(Model):
    items: list[ContributionEntry]
    next_cursor: Optional[str]
