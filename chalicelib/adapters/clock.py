"""Clocks and id makers: injected so tests can pin time."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Callable, NamedTuple, Protocol

from chalicelib.domain.points import shanghai_day


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class Stamp(NamedTuple):
    """Now as the shop writes it: `at`, the instant (`iso`), and `day`, its date in Shanghai (`shanghai_day`)."""

    at: str
    day: str


_MILLIS = [f".{ms:03d}Z" for ms in range(1000)]  # a stamp's last part, by its milliseconds


class SystemClock:
    def __init__(self, time_ns: Callable[[], int] = time.time_ns) -> None:
        self._time_ns = time_ns
        self._second = (-1, "", "")  # the last second stamped: (its Unix time, its ISO text to the second, its day)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    def stamp(self) -> Stamp:
        """`stamp(clock)` without a datetime: the second's text is written once a second, the milliseconds added
        to it. A request that only needs the time as text (every quote) then does not touch the datetime module,
        whose code a request reads from memory again after a wait (7-10 µs of a quote's ~120 in the bench)."""
        second, ms = divmod(self._time_ns() // 1_000_000, 1000)  # truncated to the ms, as iso() does
        known = self._second  # one read: another thread may replace it meanwhile
        if known[0] != second:
            moment = dt.datetime.fromtimestamp(second, dt.timezone.utc)
            known = self._second = (second, iso(moment)[:19], shanghai_day(moment))
        return Stamp(known[1] + _MILLIS[ms], known[2])


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


def stamp(clock: Clock) -> Stamp:
    """Now, as `iso` and `shanghai_day` write it, from the clock."""
    if isinstance(clock, SystemClock):
        return clock.stamp()
    now = clock.now()
    return Stamp(iso(now), shanghai_day(now))


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"
