"""Rendering HTML pages with what every page shows (account menu, category navigation, unread notifications)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from litestar import Request
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import i18n
from marketplace.errors import DomainError
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


async def act(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    back: str | Callable[[], str],
    action: Callable[[], Awaitable[Any]],
    *,
    success: str | None = None,
    refusals: tuple[int, ...] | None = None,
) -> Redirect:
    """Run a form's action and answer 303 to ``back`` with a flash: the one helper every HTML form action uses.

    A refusal (a :class:`DomainError`, or only those whose status is in ``refusals``) **rolls the session back
    first**, then flashes its detail as an error: the 303 would otherwise let the request's session commit
    whatever the action wrote before it refused, a half-done change. Any other error propagates. On success the
    flash is ``success``, else the action's own return value (a sentence). ``back`` may be a callable, read after
    the action (e.g. a page that only exists once the action made it).
    """
    try:
        result = await action()
    except DomainError as exc:
        if refusals is not None and exc.status_code not in refusals:
            raise
        await db.rollback()
        flash(request, i18n.gettext(exc.detail), category="error")
    else:
        flash(request, success if success is not None else str(result), category="success")
    return Redirect(back if isinstance(back, str) else back(), status_code=303)
