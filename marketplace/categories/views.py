"""Public category pages (the home page and category listing pages are the listings domain's)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401
from marketplace.web.pages import render


class CatalogViews(Controller):
    include_in_schema = False

    @get("/categories")
    async def categories(self, request: Request[Any, Any, Any], db_session: DB) -> Template:
        """Every visible category with links to its /c/{slug} page (the tree comes from the cached nav tree)."""
        return await render(request, db_session, "catalog/categories.html")


ROUTES = [CatalogViews]
