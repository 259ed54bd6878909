"""Jinja filters: the one place coins and times are formatted (docs/architecture.md).

Times are stored in UTC and shown in the reader's zone (marketplace/localtime.py). ``when`` and ``time_left`` emit
``<time datetime="…UTC ISO…">``, so static/js/localtime.js can re-render them in the browser's zone on a page
rendered before the visitor's ``tz`` cookie existed (the anonymous page cache keys by zone: web/pagecache.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from marketplace.db import iso as db_iso
from marketplace.i18n import _
from marketplace.localtime import current_zone, to_local, utc_offset_label


def coins(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{int(value):,} 🪙"


def coins_plain(value: int | None) -> str:
    return "—" if value is None else f"{int(value):,}"


def iso(value: datetime | None) -> str:
    return db_iso(value) or ""


def _as_datetime(value: datetime | str | None) -> datetime | None:
    """Templates get datetimes from the ORM and ISO strings from API-shaped dicts (``"…Z"``): accept both."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def local_text(value: datetime, zone: str | None = None, now: datetime | None = None) -> str:
    """``12-01 19:05 (UTC+8)``; the year is shown when it is not the current one (in that zone)."""
    local = to_local(value, zone)
    this_year = to_local(now or datetime.now(UTC), zone).year
    stamp = local.strftime("%m-%d %H:%M" if local.year == this_year else "%Y-%m-%d %H:%M")
    return f"{stamp} ({utc_offset_label(local.utcoffset())})"


def when(value: datetime | str | None, now: datetime | None = None) -> Markup:
    """An absolute time in the reader's zone, as ``<time datetime="UTC ISO">12-01 19:05 (UTC+8)</time>``."""
    moment = _as_datetime(value)
    if moment is None:
        return Markup("")
    return Markup('<time datetime="{}" data-local="when">{}</time>').format(
        db_iso(moment), local_text(moment, current_zone(), now))


def local(value: datetime | str | None) -> str:
    """The text of ``when`` alone, for a ``<time>`` element the template writes itself."""
    moment = _as_datetime(value)
    return local_text(moment, current_zone()) if moment else ""


def left_text(value: datetime, now: datetime | None = None) -> str:
    """"2h 15m left" / "3d 4h left" / "15m left" / "ended" (translated: marketplace/i18n.py)."""
    seconds = int((value - (now or datetime.now(UTC))).total_seconds())
    if seconds <= 0:
        return _("ended")
    minutes = seconds // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)dd %(h)dh left", d=days, h=hours)
    if hours:
        return _("%(h)dh %(m)dm left", h=hours, m=mins)
    if minutes:
        return _("%(m)dm left", m=mins)
    return _("less than a minute left")


def time_left(value: datetime | str | None, now: datetime | None = None) -> Markup:
    """How long until ``value`` (an auction's end) on cards and lists; the absolute local time is its title."""
    moment = _as_datetime(value)
    if moment is None:
        return Markup("")
    return Markup('<time datetime="{}" title="{}" data-local="left">{}</time>').format(
        db_iso(moment), local_text(moment, current_zone(), now), left_text(moment, now))


def nl2br(value: str | None) -> Markup:
    """Escape first, then keep line breaks: user text never becomes markup."""
    if not value:
        return Markup("")
    return Markup("<br>\n").join(escape(line) for line in str(value).splitlines())


def safe_flashes(context: Mapping[str, Any], /) -> list[Any]:
    """Flash messages, or none where no session exists (error pages rendered before the middleware ran)."""
    request = context.get("request")
    if request is None or "session" not in request.scope:
        return []
    from litestar.plugins.flash import get_flashes

    return list(get_flashes(context))


def now_utc() -> datetime:
    return datetime.now(UTC)


FILTERS = {"coins": coins, "coins_plain": coins_plain, "iso": iso, "when": when, "time_left": time_left, "local": local,
           "nl2br": nl2br}
