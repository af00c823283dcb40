"""Merchants beyond the shop that take points (NIO House counters and rooms, charging, car rental), whom the bank
settles with; their staff act with tokens of group `merchant` naming their `merchant_id`."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field, StringConstraints

from chalicelib.domain.auth import MERCHANT_ID
from chalicelib.domain.base import Model, Strict
from chalicelib.domain.catalog import ShortText

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
