"""Retrying a compare-and-swap write that lost a race: re-read, re-plan, re-commit."""

from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

from chalicelib.adapters.dynamo import Contention, LostRace
from chalicelib.domain.errors import Conflict

T = TypeVar("T")
ATTEMPTS = 40
__all__ = ["LostRace", "on_lost_race"]


def on_lost_race(attempt: Callable[[], T], what: str) -> T:
    for n in range(ATTEMPTS):
        try:
            return attempt()
        except (LostRace, Contention):
            time.sleep(random.uniform(0.002, 0.02) * min(n + 1, 6))
    raise Conflict(f"{what} is changing too fast; try again")
