"""Who is calling: a user id and the groups the token grants."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

GROUPS = ("merchandiser", "partner", "service")
# `fullmatch` only (`$` would let a trailing newline through); not "<other>-dlq": that names a dead-letter queue
PARTNER_ID = re.compile(r"(?!.*-dlq$)[a-z0-9-]{1,32}")


@dataclass(frozen=True)
class Principal:
    user_id: str
    groups: frozenset[str] = field(default_factory=frozenset)
    partner_id: Optional[str] = None  # a `partner` token's organisation: whose lines it ships
