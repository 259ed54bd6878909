"""Jinja filters: the one place coins and times are formatted (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from marketplace.db import iso as db_iso


def coins(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{int(value):,} 🪙"


def coins_plain(value: int | None) -> str:
    return "—" if value is None else f"{int(value):,}"


def iso(value: datetime | None) -> str:
    return db_iso(value) or ""


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


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


FILTERS = {"coins": coins, "coins_plain": coins_plain, "iso": iso, "when": when, "nl2br": nl2br}
