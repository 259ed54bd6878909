"""Rendering HTML pages with what every page shows (account menu, category navigation)."""

from __future__ import annotations

from typing import Any, Protocol

from litestar import Request
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.web.auth import current_user


class Navigation(Protocol):
    """The category navigation every page shows (the categories domain implements it; the composition root puts
    it on the app state, under the domains that render pages)."""

    async def nav_tree(self, db: AsyncSession) -> list[dict[str, Any]]: ...


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
    return Template(
        template_name=template_name,
        context={"user": current_user(request), "nav_categories": nav, **context},
        status_code=status_code,
    )
