"""Base models: schemas are built on first use, not at import (a Lambda cold start pays only for what it uses)."""

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)


class Strict(Model):
    """Request bodies: exact JSON types, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid", defer_build=True)


class PageQuery(Model):
    """A page of a listing: how many, and the cursor the previous page gave."""

    limit: int = Field(default=20, ge=1, le=100)
    cursor: Optional[str] = Field(default=None, max_length=2048)
