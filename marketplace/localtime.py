"""Local time: times are stored in UTC and shown in the reader's time zone (docs/architecture.md "Local time").

The zone is an IANA name (``Asia/Shanghai``). A signed-in user's comes from their profile setting; an anonymous
visitor's from the ``tz`` cookie that static/js/localtime.js sets from the browser
(``Intl.DateTimeFormat().resolvedOptions().timeZone``); otherwise ``DEFAULT_ZONE``. The web layer sets it once
per request in a context variable (like the locale in marketplace/i18n.py); ``use_zone`` sets it for jobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_ZONE = "Asia/Shanghai"
ZONE_COOKIE = "tz"
MAX_ZONE_LENGTH = 64

_current: ContextVar[str] = ContextVar("marketplace_zone", default=DEFAULT_ZONE)


@cache
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine knows (read once: the scan takes a quarter of a second)."""
    return frozenset(available_timezones())


def is_valid_zone(name: object) -> bool:
    return isinstance(name, str) and 0 < len(name) <= MAX_ZONE_LENGTH and name in zone_names()


def valid_zone_or_default(name: object) -> str:
    return name if is_valid_zone(name) else DEFAULT_ZONE  # type: ignore[return-value]


def current_zone() -> str:
    return _current.get()


@cache
def zone_info(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def current_tzinfo() -> ZoneInfo:
    return zone_info(_current.get())


def set_zone(name: object) -> None:
    """Set the zone for the rest of this task (the web layer calls it once per request); invalid → default."""
    _current.set(valid_zone_or_default(name))


@contextmanager
def use_zone(name: str) -> Iterator[None]:
    token = _current.set(valid_zone_or_default(name))
    try:
        yield
    finally:
        _current.reset(token)


def utc_offset_label(offset: timedelta | None) -> str:
    """``UTC+8``, ``UTC+5:30``, ``UTC-3``, ``UTC`` (what follows a local time: abbreviations such as CST are
    ambiguous — China, Cuba and the US Central zone all use it)."""
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def to_local(value: datetime, zone: str | None = None) -> datetime:
    """An aware (or naive-UTC) datetime in ``zone`` (default: the current one)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone_info(valid_zone_or_default(zone)) if zone else current_tzinfo())
