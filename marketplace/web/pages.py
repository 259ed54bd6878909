"""Rendering HTML pages with what every page shows (account menu, category navigation)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.web.auth import current_user


async def render(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    template_name: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    from marketplace.catalog.services import CategoryService

    nav = await CategoryService(db, cache=request.app.state.cache).nav_tree()
    user = current_user(request)
    unread = None
    if user is not None:  # the header's bell badge (the page's script keeps it live over /ws/me)
        from marketplace.notifications.services import unread_count

        unread = await unread_count(db, user.id)
    return Template(
        template_name=template_name,
        context={"user": user, "nav_categories": nav, "unread_count": unread, **context},
        status_code=status_code,
    )
