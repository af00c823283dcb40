"""Retrying a compare-and-swap write that lost a race: re-read, re-plan, re-commit."""
from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

from chalicelib.adapters.dynamo import Contention
from chalicelib.domain.errors import Conflict

T = TypeVar("T")
ATTEMPTS = 40


class LostRace(Exception):
    """The state a write was planned from changed before it committed."""


def on_lost_race(attempt: Callable[[], T], what: str) -> T:
    for n in range(ATTEMPTS):
        try:
            return attempt()
        except (LostRace, Contention):
            time.sleep(random.uniform(0.002, 0.02) * min(n + 1, 6))
    raise Conflict(f"{what} is changing too fast; try again")
