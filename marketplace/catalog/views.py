"""Public catalog pages."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, get
from litestar.response import Template

from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401
from marketplace.web.pages import render


class CatalogViews(Controller):
    include_in_schema = False

    @get("/", media_type=MediaType.HTML)
    async def home(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings) -> Any:
        # The home slot's blocks (docs/rules.md §18); anonymous visitors get the whole page from the cache.
        from marketplace.site.blocks import BlockService
        from marketplace.site.pages import cached_page

        async def page() -> Template:
            blocks = await BlockService(db_session, settings, request.app.state.cache).cached_slot("home")
            blocks = [b for b in blocks if b["items"]]
            return await render(request, db_session, "catalog/home.html", blocks=blocks)

        return await cached_page(request, page)

    @get("/categories")
    async def categories(self, request: Request[Any, Any, Any], db_session: DB) -> Template:
        """Every visible category with links to its /c/{slug} page (the tree comes from the cached nav tree)."""
        return await render(request, db_session, "catalog/categories.html")


ROUTES = [CatalogViews]
