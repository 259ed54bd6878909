"""Rendering HTML pages with what every page shows (account menu, category navigation, unread notifications)."""

from __future__ import annotations

from typing import Any, Protocol

from litestar import Request
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import i18n
from marketplace.web.auth import current_user


class Navigation(Protocol):
    """The category navigation every page shows (the categories domain implements it; the composition root puts
    it on the app state, under the domains that render pages)."""

    async def nav_tree(self, db: AsyncSession) -> list[dict[str, Any]]: ...


class Inbox(Protocol):
    """The signed-in user's unread notification count for the header's bell (the notifications domain implements
    it; the composition root puts it on the app state, docs/rules.md §12)."""

    async def unread_count(self, db: AsyncSession, user_id: int) -> int: ...


async def render(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    template_name: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    navigation: Navigation = request.app.state.navigation
    nav = await navigation.nav_tree(db)
    user = current_user(request)
    unread = None
    if user is not None:  # the header's bell badge (the page's script keeps it live over /ws/me)
        inbox: Inbox | None = request.app.state.get("inbox")
        if inbox is not None:
            unread = await inbox.unread_count(db, user.id)
    if isinstance(context.get("error"), str):  # a form error: a domain error's English detail, shown translated
        context["error"] = i18n.gettext(context["error"])
    return Template(
        template_name=template_name,
        context={"user": user, "nav_categories": nav, "unread_count": unread, **context},
        status_code=status_code,
    )
