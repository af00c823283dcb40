"""Retrying a compare-and-swap write that lost a race: re-read, re-plan, re-commit."""

from __future__ import annotations

import random
import time
from typing import Callable, Sequence, TypeVar

from chalicelib.adapters.dynamo import Contention, LostRace
from chalicelib.domain.errors import Conflict

T = TypeVar("T")
I = TypeVar("I")
ATTEMPTS = 40
__all__ = ["LostRace", "on_lost_race", "once_in_groups"]


def on_lost_race(attempt: Callable[[], T], what: str) -> T:
    for n in range(ATTEMPTS):
        try:
            return attempt()
        except (LostRace, Contention):
            time.sleep(random.uniform(0.002, 0.02) * min(n + 1, 6))
    raise Conflict(f"{what} is changing too fast; try again")


def once_in_groups(
    items: Sequence[I], write: Callable[[list[I]], None], already: type[Exception], group: int = 25, attempts: int = 8
) -> int:
    """A stream consumer's writes, each item once: `write` a group per transaction (it marks each item and raises
    `already` if one was marked before, writing nothing); such a group is written one item at a time, skipping the
    marked. Contention (another consumer on the same items) is retried; past `attempts` it raises, for the stream to
    deliver the records again. How many items were written now."""
    done = 0
    for start in range(0, len(items), group):
        batch = list(items[start : start + group])
        try:
            _contended(write, batch, attempts)
            done += len(batch)
        except already:
            for one in batch:
                try:
                    _contended(write, [one], attempts)
                    done += 1
                except already:
                    pass  # written by an earlier delivery
    return done


def _contended(write: Callable[[list[I]], None], batch: list[I], attempts: int) -> None:
    for attempt in range(attempts):
        try:
            return write(batch)
        except Contention:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.005, 0.03) * (attempt + 1))
