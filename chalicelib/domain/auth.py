"""Who is calling: a user id and the groups the token grants."""
from __future__ import annotations

from dataclasses import dataclass, field

GROUPS = ("merchandiser", "partner", "service")


@dataclass(frozen=True)
class Principal:
    user_id: str
    groups: frozenset[str] = field(default_factory=frozenset)
