"""Who is calling: a user id and the groups the token grants."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

GROUPS = ("merchandiser", "partner", "service", "merchant")
# `fullmatch` only (`$` would let a trailing newline through); not "<other>-dlq": that names a dead-letter queue
PARTNER_ID = re.compile(r"(?!.*-dlq$)[a-z0-9-]{1,32}")
MERCHANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{2,31}")  # `fullmatch` only


@dataclass(frozen=True)
class Principal:
    user_id: str
    groups: frozenset[str] = field(default_factory=frozenset)
    partner_id: Optional[str] = None  # a `partner` token's organisation: whose lines it ships
    merchant_id: Optional[str] = None  # a `merchant` token's merchant: whose payments it takes and sees
