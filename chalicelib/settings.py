"""Configuration read from the environment once, when the first request needs it."""
from __future__ import annotations

from typing import Optional

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_STAGE = "local"
LOCAL_JWT_SECRET = "local-dev-secret"


class SettingsError(ValueError):
    """The configuration cannot run this stage safely."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIFESHOP_", extra="ignore")

    stage: str = LOCAL_STAGE
    app_name: str = "lifeshop"
    region: str = "cn-north-1"
    # Overrides "<app>-<stage>" as the prefix of every table and queue name (tests use it).
    resource_prefix: Optional[str] = None
    dynamodb_endpoint: Optional[str] = None
    sqs_endpoint: Optional[str] = None

    jwt_secret: Optional[str] = None
    jwt_issuer: Optional[str] = None
    jwt_audience: Optional[str] = None
    jwks_url: Optional[str] = None
    cursor_secret: Optional[str] = None

    max_body_bytes: int = Field(default=262_144, gt=0)

    @model_validator(mode="after")
    def _stage_has_real_settings(self) -> "Settings":
        if self.stage == LOCAL_STAGE:
            return self
        missing = [
            name
            for name in ("jwt_issuer", "jwt_audience", "jwks_url", "cursor_secret")
            if not getattr(self, name)
        ]
        if missing:
            names = ", ".join("LIFESHOP_" + m.upper() for m in missing)
            raise SettingsError(f"stage {self.stage!r} needs real settings: {names}")
        return self

    @property
    def prefix(self) -> str:
        return self.resource_prefix or f"{self.app_name}-{self.stage}"

    @property
    def store_table(self) -> str:
        return f"{self.prefix}-store"

    @property
    def fulfillment_queue(self) -> str:
        return f"{self.prefix}-fulfillment.fifo"

    @property
    def local_jwt_secret(self) -> str:
        return self.jwt_secret or LOCAL_JWT_SECRET

    @property
    def cursor_key(self) -> bytes:
        return (self.cursor_secret or f"cursor:{self.local_jwt_secret}").encode()
