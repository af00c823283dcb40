"""Points red envelopes (积分红包): what a sender asks for, how the points are split, and where the shares live.

The split is decided when the envelope is made, so nothing about a share depends on when or by whom it is claimed:
"double mean" for a random split (each share drawn between 1 and twice the mean of what is left, the last one
takes the rest, then shuffled), or equal shares. The shares are dealt over K shard items so a crowd claiming one
envelope writes K items, not one (infra/README.md, "Hot items").
"""

import hashlib
import random
from dataclasses import dataclass
from typing import Annotated, Literal, Optional, Sequence, Union

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.errors import AlreadyClaimed, EnvelopeEmpty, EnvelopeExpired, NotInAudience, OwnEnvelope
from chalicelib.domain.points import CampaignId, UserId
from chalicelib.domain.text import OneLine

MAX_TOTAL_POINTS = 1_000_000
MAX_SHARES = 10_000
MAX_AUDIENCE = 500
MIN_EXPIRY_S, MAX_EXPIRY_S = 60, 86_400
LISTING_PARTITIONS = 8  # an envelope's claims are listed over at most this many index partitions
RECENT_CLAIMS = 100  # the claims an envelope's page shows, newest first
Split = Literal["random", "equal"]
EnvelopeStatus = Literal["open", "empty", "expired"]


class LinkAudience(Strict):
    kind: Literal["link"] = Field(description="anyone signed in who has the envelope's id (its link)")


class OwnersAudience(Strict):
    kind: Literal["owners"] = Field(description="verified vehicle owners only (tier owner when claiming)")


class UsersAudience(Strict):
    kind: Literal["users"] = Field(description="only the users listed")
    user_ids: list[UserId] = Field(min_length=1, max_length=MAX_AUDIENCE)

    @field_validator("user_ids")
    @classmethod
    def _once_each(cls, user_ids: list[str]) -> list[str]:
        return sorted(set(user_ids))


Audience = Annotated[Union[LinkAudience, OwnersAudience, UsersAudience], Field(discriminator="kind")]


class EnvelopeInput(Strict):
    # Field order matters: each validator sees the fields above it.
    shares: int = Field(ge=1, le=MAX_SHARES, description="how many people can claim")
    split: Split = Field(default="random", description="random ('double mean') or equal shares")
    total_points: int = Field(ge=1, le=MAX_TOTAL_POINTS, description="every share gets at least 1 point")
    audience: Audience
    greeting: Optional[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), OneLine]
    ] = None
    expires_in_s: int = Field(
        default=MAX_EXPIRY_S,
        ge=MIN_EXPIRY_S,
        le=MAX_EXPIRY_S,
        description="unclaimed points go back to the sender (or the campaign) after this",
    )
    campaign_id: Optional[CampaignId] = Field(default=None, description="merchandisers: fund it from this campaign")

    @field_validator("total_points")
    @classmethod
    def _covers_the_shares(cls, total: int, info: ValidationInfo) -> int:
        shares, split = info.data.get("shares"), info.data.get("split")
        if not shares:
            return total
        if total < shares:
            raise ValueError(f"must be at least shares ({shares}): every share gets at least 1 point")
        if split == "equal" and total % shares:
            lower = total - total % shares
            raise ValueError(
                f"an equal split needs a multiple of shares ({shares}), such as {lower} or {lower + shares}"
            )
        return total

    @field_validator("audience")
    @classmethod
    def _enough_people(
        cls, audience: Union[LinkAudience, OwnersAudience, UsersAudience], info: ValidationInfo
    ) -> Union[LinkAudience, OwnersAudience, UsersAudience]:
        shares = info.data.get("shares")
        if isinstance(audience, UsersAudience) and shares and len(audience.user_ids) < shares:
            raise ValueError(
                f"names {len(audience.user_ids)} people for {shares} shares: a share nobody may claim "
                f"would only come back at expiry"
            )
        return audience


def split_points(total: int, shares: int, split: str, rng: random.Random) -> list[int]:
    """`shares` amounts of at least 1 point each that sum to exactly `total` (total ≥ shares)."""
    if split == "equal":
        return [total // shares] * shares
    amounts, left = [], total
    for n in range(shares, 1, -1):  # n shares still to fill, `left` points for them
        upper = min(left - (n - 1), max(1, 2 * left // n - 1))  # below twice the mean; the rest keep ≥ 1 each
        amount = rng.randint(1, upper)
        amounts.append(amount)
        left -= amount
    amounts.append(left)
    rng.shuffle(amounts)
    return amounts


def shard_count(shares: int, shares_per_shard: int, max_shards: int) -> int:
    return max(1, min(max_shards, -(-shares // shares_per_shard)))


def deal(amounts: Sequence[int], shards: int) -> list[list[int]]:
    """The amounts each shard holds: share i on shard i mod K."""
    return [list(amounts[k::shards]) for k in range(shards)]


def largest(dealt: Sequence[Sequence[int]]) -> tuple[int, int]:
    """(shard, index) of the largest share (the first, on a tie): whoever claims it is the luckiest."""
    best = max(((amount, -k, -i) for k, shard in enumerate(dealt) for i, amount in enumerate(shard)))
    return -best[1], -best[2]


def home_shard(user_id: str, shards: int) -> int:
    """The shard a claimant tries first: spread evenly over users, the same for one user."""
    return int.from_bytes(hashlib.sha256(user_id.encode()).digest()[:4], "big") % shards


def listing_partition(shard: int) -> int:
    return shard % LISTING_PARTITIONS


# -- claiming: an envelope's unchanging terms, its shards as read, and the pure rules of a claim -----------------
@dataclass(frozen=True)
class Terms:
    """What never changes about an envelope once sent (a container may keep it)."""

    envelope_id: str
    sender_id: str
    audience_kind: str
    user_ids: Optional[tuple[str, ...]]
    shard_count: int
    luckiest_at: tuple[int, int]  # (shard, index) of the largest share
    expires_at: str


@dataclass(frozen=True)
class Shard:
    """One of an envelope's K share items as read: its amounts, which of them are claimed, whether it is closed."""

    shard: int
    amounts: tuple[int, ...]
    claimed: frozenset[int] = frozenset()
    taken: int = 0
    swept: bool = False

    @property
    def free(self) -> list[int]:
        """Indexes of the shares nobody has claimed."""
        return [i for i in range(len(self.amounts)) if i not in self.claimed]

    @property
    def points_left(self) -> int:
        return sum(self.amounts[i] for i in self.free)


@dataclass(frozen=True)
class Pick:
    """The share a claim takes: shard, index on it, and its points."""

    shard: int
    index: int
    points: int


def status(shares: int, shards: Sequence[Shard], now: str, expires_at: str) -> EnvelopeStatus:
    """`empty` once every share is claimed (even after expiry), `expired` past its time or once swept, else `open`."""
    if sum(s.taken for s in shards) == shares:
        return "empty"
    return "expired" if now >= expires_at or any(s.swept for s in shards) else "open"


def admit(terms: Terms, user_id: str, tier: Optional[str] = None) -> None:
    """Who may claim (and see) an envelope: anyone its audience names but the sender; `owners` needs the tier,
    checked when it is known."""
    if user_id == terms.sender_id:
        raise OwnEnvelope("you cannot claim your own envelope", {"envelope_id": terms.envelope_id})
    if terms.audience_kind == "users" and user_id not in (terms.user_ids or ()):
        raise NotInAudience("this envelope is for the people its sender named", {"envelope_id": terms.envelope_id})
    if terms.audience_kind == "owners" and tier is not None and tier != "owner":
        raise NotInAudience("this envelope is for verified vehicle owners", {"tier": tier})


def expired(terms: Terms) -> EnvelopeExpired:
    return EnvelopeExpired(
        "this envelope has expired; what was left goes back to its sender",
        {"envelope_id": terms.envelope_id, "expired_at": terms.expires_at},
    )


def empty(envelope_id: str) -> EnvelopeEmpty:
    return EnvelopeEmpty("every share of this envelope has been claimed", {"envelope_id": envelope_id})


def already(envelope_id: str, points: Optional[int]) -> AlreadyClaimed:
    details: dict[str, object] = {"envelope_id": envelope_id}
    if points is not None:
        details["points"] = points
    return AlreadyClaimed("you have already claimed this envelope", details)


def pick_share(shards: Sequence[Shard], user_id: str, retry: bool, rng: random.Random) -> Optional[Pick]:
    """The share a claim takes: a random free one on the claimant's home shard at first (so a crowd spreads over
    the K items unread); after a lost race, or when home is empty, a random free share of all, weighted by what each
    shard has left. None when no share is free."""
    with_shares = [s for s in shards if s.free]
    if not with_shares:
        return None
    home = shards[home_shard(user_id, len(shards))]
    if home.free and not retry:
        shard = home
    else:
        shard = rng.choices(with_shares, weights=[len(s.free) for s in with_shares])[0]
    index = rng.choice(shard.free)
    return Pick(shard.shard, index, shard.amounts[index])


class EnvelopeClaimView(Model):
    claimant: str = Field(description="a display name, stable per user, never the user id")
    user_id: Optional[str] = Field(default=None, description="shown to the sender, merchandisers and the claimant")
    points: int
    claimed_at: str


class AudienceView(Model):
    kind: Literal["link", "owners", "users"]
    user_ids: Optional[list[str]] = Field(default=None, description="kind users: shown to the sender and merchandisers")
    size: Optional[int] = Field(default=None, description="kind users: how many are listed")


class Envelope(Model):
    envelope_id: str
    official: bool = Field(description="sent by the shop, from a campaign's budget")
    sender_id: Optional[str] = Field(
        description="the member who sent it (an official envelope's sender is shown to merchandisers only)"
    )
    funded_by: Literal["points", "campaign"]
    campaign_id: Optional[str] = Field(default=None, description="shown to the sender and merchandisers")
    total_points: int
    shares: int
    split: Split
    audience: AudienceView
    greeting: Optional[str] = None
    status: EnvelopeStatus = Field(description="open; empty (every share claimed); expired (what is left goes back)")
    shares_left: int
    points_left: int
    claims: list[EnvelopeClaimView] = Field(description=f"newest first, at most {RECENT_CLAIMS}")
    luckiest: Optional[EnvelopeClaimView] = Field(description="the claim of the largest share, once it is claimed")
    my_claim: Optional[EnvelopeClaimView] = None
    refunded_points: Optional[int] = Field(default=None, description="returned at expiry (null until then)")
    expires_at: str
    created_at: str


class EnvelopeSummary(Model):
    envelope_id: str
    total_points: int
    shares: int
    split: Split
    audience_kind: Literal["link", "owners", "users"]
    greeting: Optional[str] = None
    funded_by: Literal["points", "campaign"]
    refunded_points: Optional[int] = None
    expires_at: str
    created_at: str


class EnvelopePage(Model):
    items: list[EnvelopeSummary]
    next_cursor: Optional[str]


class EnvelopeClaim(Model):
    envelope_id: str
    points: int = Field(description="what you got")
    available: int = Field(description="your available points after it")
    shares_left: int = Field(description="shares left when you claimed")
    claimed_at: str
