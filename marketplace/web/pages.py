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
    from marketplace.categories.services import CategoryService

    nav = await CategoryService(db, cache=request.app.state.cache).nav_tree()
    return Template(
        template_name=template_name,
        context={"user": current_user(request), "nav_categories": nav, **context},
        status_code=status_code,
    )
