"""Base models: schemas are built on first use, not at import (a Lambda cold start pays only for what it uses)."""

from typing import Any, Optional, Self

from pydantic import BaseModel, ConfigDict, Field

_set = object.__setattr__


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)

    @classmethod
    def trusted(cls, fields: dict[str, Any]) -> Self:
        """The model of `fields` the shop computed itself from typed values, every field given in the model's order,
        made without validating them: what `model_validate` makes of them, as `model_construct` would but without its
        work per field. For a model without validators, on a hot path only (a quote's answer: pydantic's validator
        is code a request after a wait reads from memory again: ~5 µs of ~115, docs/decisions.md); a test holds each
        use to `model_validate`."""
        made = cls.__new__(cls)
        _set(made, "__dict__", fields)
        _set(made, "__pydantic_fields_set__", set(fields))
        _set(made, "__pydantic_extra__", None)
        _set(made, "__pydantic_private__", None)
        return made


class Strict(Model):
    """Request bodies: exact JSON types, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid", defer_build=True)


class PageQuery(Model):
    """A page of a listing: how many, and the cursor the previous page gave."""

    limit: int = Field(default=20, ge=1, le=100)
    cursor: Optional[str] = Field(default=None, max_length=2048)
