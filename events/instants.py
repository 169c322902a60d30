"""Instants as the log writes them: fixed-width UTC text, and the clock that gives them."""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable

Clock = Callable[[], dt.datetime]

utc_now: Clock = functools.partial(dt.datetime.now, dt.UTC)


def format_instant(instant: dt.datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    i = instant if instant.tzinfo is dt.UTC else instant.astimezone(dt.UTC)
    return (
        f"{i.year:04d}-{i.month:02d}-{i.day:02d}T{i.hour:02d}:{i.minute:02d}:{i.second:02d}"
        f".{i.microsecond:06d}Z"
    )


def utc_now_text() -> str:
    """format_instant(utc_now()), straight from the system clock.

    Every append takes the time, and getting a datetime (glibc's gmtime takes a lock) and
    formatting it cost more than SQLite's part of a small append: the date and time are
    formatted once a second here, and only the microseconds each time.
    """
    global _second_text
    second, micro = divmod(time.time_ns() // 1000, 1_000_000)
    if second != _second_text[0]:
        whole = format_instant(dt.datetime.fromtimestamp(second, dt.UTC))
        _second_text = (second, whole[: -len("000000Z")])
    return f"{_second_text[1]}{micro:06d}Z"


_second_text: tuple[int, str] = (-1, "")


def parse_instant(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def text_clock(clock: Clock) -> Callable[[], str]:
    """The clock's instants as text: the system clock's by the fast way."""
    if clock is utc_now:
        return utc_now_text
    return lambda: format_instant(clock())
