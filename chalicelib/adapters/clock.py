"""Clocks and id makers: injected so tests can pin time."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


class FileClock:
    """Stage local only (`LIFESHOP_LOCAL_CLOCK_FILE`): the instant written in a file (ISO 8601, e.g.
    2027-02-01T01:00:00Z) is now, so a month-end can be tried by hand with `make run` as the tests try it;
    an empty or missing file is the real time. Tokens keep the real time."""

    def __init__(self, path: str) -> None:
        self._path = path

    def now(self) -> dt.datetime:
        try:
            with open(self._path, encoding="utf-8") as f:
                text = f.read().strip()
        except FileNotFoundError:
            text = ""
        if not text:
            return dt.datetime.now(dt.timezone.utc)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    """ISO 8601 in UTC to the millisecond with a Z, as every stored time is (a clock's UTC time as it is)."""
    utc = moment if moment.tzinfo is dt.timezone.utc else moment.astimezone(dt.timezone.utc)
    return utc.isoformat(timespec="milliseconds")[:23] + "Z"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"
