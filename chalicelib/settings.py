"""Configuration read from the environment once, when the first request needs it.

Each field comes from `LIFESHOP_<FIELD>` (Stripe's from `STRIPE_*`), JSON for the maps; values passed to
`Settings(...)` win over the environment. A plain pydantic model with a small loader rather than
pydantic-settings: it does the same here and keeps ~50 ms of imports out of every cold start."""

import hashlib
import json
import os
import typing
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.domain import contribution
from chalicelib.domain.auth import PARTNER_ID
from chalicelib.domain.catalog import CATEGORIES

if typing.TYPE_CHECKING:
    from chalicelib.domain.policy import Policy

ENV_PREFIX = "LIFESHOP_"
LOCAL_STAGE = "local"
LOCAL_JWT_SECRET = "local-dev-secret"
# Which fulfillment partner ships each category. Every partner named here needs its queue, dead-letter queue and
# alarm in infra/template.json (`lifeshop-${Stage}-partner-<id>.fifo`; a test checks the default map).
DEFAULT_PARTNER_ROUTES = {
    "food": "fresh",
    "hotel": "hotels",
    "apparel": "warehouse",
    "travel": "warehouse",
    "tech": "warehouse",
    "home": "warehouse",
    "car-life": "warehouse",
    "models-toys": "warehouse",
}


class SettingsError(ValueError):
    """The configuration cannot run this stage safely."""


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    stage: str = LOCAL_STAGE
    app_name: str = "lifeshop"
    region: str = "cn-north-1"
    # Overrides "<app>-<stage>" as the prefix of every table and queue name (tests use it).
    resource_prefix: Optional[str] = None
    dynamodb_endpoint: Optional[str] = None
    sqs_endpoint: Optional[str] = None

    jwt_secret: Optional[str] = None
    # Stage local only: a file whose ISO instant the app takes as now (docs/configuration.md); refused elsewhere.
    local_clock_file: Optional[str] = None
    jwt_issuer: Optional[str] = None
    jwt_audience: Optional[str] = None
    jwks_url: Optional[str] = Field(default=None, pattern=r"^https://")  # the keys that admit merchandisers
    cursor_secret: Optional[str] = None
    # The console's sign-in outside stage local: the Cognito hosted UI's authorize URL (response_type=token,
    # redirect_uri = <api>/console); the page takes the id_token it returns.
    console_signin_url: Optional[str] = Field(default=None, pattern=r"^https://")

    max_body_bytes: int = Field(default=262_144, gt=0)
    # DynamoDB calls fail fast (503 unavailable) rather than outlive API Gateway's 29 s: at worst
    # attempts × (connect + read) plus backoff per call.
    dynamodb_connect_timeout_s: float = Field(default=1.0, gt=0, le=10)
    dynamodb_read_timeout_s: float = Field(default=5.0, gt=0, le=20)
    dynamodb_max_attempts: int = Field(default=2, ge=1, le=5)

    # The points economy (JSON in the environment, e.g. LIFESHOP_DAILY_CAPS='{"owner": 20, ...}').
    daily_caps: dict[str, int] = Field(default_factory=lambda: {"owner": 20, "deposit": 5, "fan": 3})
    task_points: dict[str, int] = Field(
        default_factory=lambda: {"checkin": 2, "post": 5, "comment": 1, "share": 1, "feedback": 5}
    )
    referral_points: dict[str, int] = Field(default_factory=lambda: {"test_drive": 200, "purchase": 12_000})
    referral_budget_points: int = Field(default=100_000_000, gt=0)

    # Co-design.
    design_reward_points: int = Field(default=2000, ge=0)
    design_reward_budget_points: int = Field(default=10_000_000, gt=0)
    royalty_rate: str = Field(default="0.05", pattern=r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$")
    return_window_days: int = Field(default=7, ge=0, le=90)  # royalties are credited once returns close

    # Community events: the host of a user-hosted event earns this share of its net income, in points.
    event_host_share: str = Field(default="0.75", pattern=r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$")
    event_reward_budget_points: int = Field(default=100_000_000, gt=0)
    # ... and earns its `event_hosted` contribution only if this many people other than the host were checked in at
    # the door (with a ticket not refunded): an empty event earns nothing (contribution farming).
    event_host_min_attendees: int = Field(default=3, ge=0, le=10_000)
    waitlist_offer_s: int = Field(default=86_400, ge=60, le=7 * 86_400)  # to accept a place offered
    # A launch-day event's places spread over this many shard items of its ticket (each about 500 writes/s on AWS)
    # once its capacity reaches the threshold; a smaller event keeps them on the ticket item.
    ticket_shards: int = Field(default=16, ge=2, le=64)
    ticket_shard_min_capacity: int = Field(default=200, ge=2)
    # Points red envelopes: the shares of one envelope are dealt over ceil(shares / per shard) shard items, at most
    # `envelope_max_shards` (each takes about 500 claims/s on AWS while under 1 KB; a claim reads them all in one
    # BatchGetItem and the expiry sweep closes them all in one transaction, so at most 64).
    envelope_shares_per_shard: int = Field(default=25, ge=1, le=10_000)
    envelope_max_shards: int = Field(default=32, ge=1, le=64)
    # What one account may send in red envelopes from its points per Shanghai day (campaign envelopes: the budget).
    envelope_daily_send_points: int = Field(default=20_000, ge=1, le=1_000_000_000)

    # The contribution score: what each source the shop pays earns (JSON), and the contribution at which a design
    # vote weighs 2, 3, 4, ... (JSON list, e.g. LIFESHOP_VOTE_WEIGHT_THRESHOLDS='[100, 1000, 10000]').
    contribution_points: dict[str, int] = Field(default_factory=lambda: dict(contribution.DEFAULT_POINTS))
    vote_weight_thresholds: list[int] = Field(default_factory=lambda: list(contribution.DEFAULT_WEIGHT_THRESHOLDS))

    # Fulfillment (JSON in the environment: LIFESHOP_PARTNER_ROUTES='{"food": "fresh", ...}', every category once).
    partner_routes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PARTNER_ROUTES))

    # Discovery: a merchandiser's synonyms reach searches in every container within this many seconds.
    search_synonyms_ttl_s: float = Field(default=60, ge=0, le=3600)

    # Checkout and payments.
    payment_ttl_s: int = Field(default=900, ge=10, le=86_400)
    min_charge_fen: int = Field(default=400, ge=1)
    max_pending_orders: int = Field(default=3, ge=1, le=100)  # open pending_payment orders per user
    stripe_api_key: Optional[str] = Field(default=None, validation_alias="STRIPE_API_KEY")
    stripe_api_base: Optional[str] = Field(default=None, validation_alias="STRIPE_API_BASE")
    stripe_webhook_secret: Optional[str] = Field(default=None, validation_alias="STRIPE_WEBHOOK_SECRET")

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, given: Any) -> Any:
        data = dict(given or {})
        for name, spec in cls.model_fields.items():
            alias = spec.validation_alias if isinstance(spec.validation_alias, str) else None
            if name in data or (alias and alias in data):
                continue
            variable = alias or f"{ENV_PREFIX}{name.upper()}"
            raw = os.environ.get(variable)
            if raw is None:
                continue
            if typing.get_origin(spec.annotation) in (dict, list):
                try:
                    data[name] = json.loads(raw)
                except ValueError:
                    example = json.dumps(spec.get_default(call_default_factory=True))
                    raise SettingsError(f"{variable} must be JSON, e.g. {example}") from None
            else:
                data[name] = raw
        return data

    @model_validator(mode="after")
    def _stage_has_real_settings(self) -> "Settings":
        if self.stage == LOCAL_STAGE:
            if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # stage local's secrets are in the README
                raise SettingsError(
                    "stage 'local' never runs on Lambda: set LIFESHOP_STAGE and the stage's real settings"
                )
            return self
        if self.local_clock_file:
            raise SettingsError(f"LIFESHOP_LOCAL_CLOCK_FILE is for stage 'local' only, not {self.stage!r}")
        missing = [
            name
            for name in (
                "jwt_issuer",
                "jwt_audience",
                "jwks_url",
                "cursor_secret",
                "stripe_api_key",
                "stripe_webhook_secret",
            )
            if not getattr(self, name)
        ]
        if missing:
            names = ", ".join(m.upper() if m.startswith("stripe") else "LIFESHOP_" + m.upper() for m in missing)
            raise SettingsError(f"stage {self.stage!r} needs real settings: {names}")
        return self

    @model_validator(mode="after")
    def _economy_is_complete(self) -> "Settings":
        for name, needed in (
            ("daily_caps", ("owner", "deposit", "fan")),
            ("task_points", ("checkin", "post", "comment", "share", "feedback")),
            ("referral_points", ("test_drive", "purchase")),
        ):
            values = getattr(self, name)
            missing = [k for k in needed if k not in values]
            floor = 1 if name == "referral_points" else 0
            if missing or any(v < floor for v in values.values()):
                raise SettingsError(f"LIFESHOP_{name.upper()} needs values >= {floor} for {', '.join(needed)}")
        return self

    @model_validator(mode="after")
    def _contribution_is_complete(self) -> "Settings":
        points = self.contribution_points
        if set(points) != set(contribution.BUILT_IN_KINDS) or not all(
            1 <= v <= contribution.MAX_AMOUNT for v in points.values()
        ):
            raise SettingsError(
                f"LIFESHOP_CONTRIBUTION_POINTS needs values 1..{contribution.MAX_AMOUNT} for exactly "
                + ", ".join(contribution.BUILT_IN_KINDS)
            )
        problem = contribution.threshold_problem(self.vote_weight_thresholds)
        if problem:
            raise SettingsError(f"LIFESHOP_VOTE_WEIGHT_THRESHOLDS: {problem}, e.g. [100, 1000, 10000]")
        return self

    @model_validator(mode="after")
    def _every_category_has_a_partner(self) -> "Settings":
        routes = self.partner_routes
        if set(routes) != set(CATEGORIES) or not all(PARTNER_ID.fullmatch(p) for p in routes.values()):
            raise SettingsError(
                "LIFESHOP_PARTNER_ROUTES must name a partner ([a-z0-9-]{1,32}, not ending in -dlq) for each "
                "category: " + ", ".join(CATEGORIES)
            )
        return self

    def first_policy(self) -> "Policy":
        """Policy version 1, from these deploy-time defaults (a fresh database starts with it; merchandisers change
        the policy through new versions, not settings)."""
        from chalicelib.domain.policy import first_policy

        return first_policy(
            self.daily_caps,
            self.task_points,
            self.referral_points,
            self.design_reward_points,
            self.royalty_rate,
            self.event_host_share,
            self.envelope_daily_send_points,
        )

    @property
    def partners(self) -> list[str]:
        return sorted(set(self.partner_routes.values()))

    def partner_queue(self, partner_id: str) -> str:
        return f"{self.prefix}-partner-{partner_id}.fifo"

    @property
    def prefix(self) -> str:
        return self.resource_prefix or f"{self.app_name}-{self.stage}"

    @property
    def store_table(self) -> str:
        return f"{self.prefix}-store"

    @property
    def notifications_queue(self) -> str:
        return f"{self.prefix}-notifications"

    @property
    def outbox_failure_queue(self) -> str:
        return f"{self.prefix}-outbox-failures"

    @property
    def local_jwt_secret(self) -> str:
        return self.jwt_secret or LOCAL_JWT_SECRET

    @property
    def webhook_secret(self) -> str:
        return self.stripe_webhook_secret or "whsec_local_dev"

    @property
    def uses_local_payments(self) -> bool:
        return self.stage == LOCAL_STAGE and not self.stripe_api_key

    @property
    def ticket_key(self) -> bytes:
        """Signs event ticket codes (derived from the cursor key, for another purpose)."""
        return hashlib.sha256(b"tickets|" + self.cursor_key).digest()

    @property
    def cursor_key(self) -> bytes:
        return (self.cursor_secret or f"cursor:{self.local_jwt_secret}").encode()
