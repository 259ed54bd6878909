"""Catalog JSON API: the category tree (docs/api.md Categories)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.categories.schemas import CategoryCreate, CategoryMerge, CategoryNode, CategoryOut, CategoryPatch
from marketplace.categories.services import CategoryService, category_out
from marketplace.web.auth import requires_admin
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401


def category_service(request: Request[Any, Any, Any], db: AsyncSession) -> CategoryService:
    return CategoryService(db, cache=request.app.state.cache,
                           max_depth=request.app.state.settings.category_max_depth)


@get("/categories", tags=["categories"], summary="The category tree (hidden categories only for admins)")
async def list_categories(request: Request[Any, Any, Any], db_session: DB,
                          optional_user: MaybeUser) -> list[CategoryNode]:
    service = category_service(request, db_session)
    if optional_user is not None and optional_user.is_admin:
        nodes = await service.tree(include_hidden=True)
    else:
        nodes = await service.nav_tree()
    return msgspec.convert(nodes, list[CategoryNode])


class CategoryAdminController(Controller):
    path = "/admin/categories"
    guards = (requires_admin,)
    tags = ("categories", "admin")

    @post("/", status_code=201, summary="Create a category")
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[CategoryCreate],
                     db_session: DB) -> CategoryOut:
        cat = await category_service(request, db_session).create(data.name, data.parent_id)
        return CategoryOut(**category_out(cat))

    @patch("/{category_id:int}", summary="Rename, move, reorder, hide or unhide a category")
    async def update(self, request: Request[Any, Any, Any], category_id: FromPath[int],
                     data: JSONBody[CategoryPatch], db_session: DB) -> CategoryOut:
        changes = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not UNSET}
        cat = await category_service(request, db_session).update(category_id, changes)
        return CategoryOut(**category_out(cat))

    @post("/{category_id:int}/merge", status_code=200, summary="Merge a category into another")
    async def merge(self, request: Request[Any, Any, Any], category_id: FromPath[int],
                    data: JSONBody[CategoryMerge], db_session: DB) -> CategoryOut:
        target = await category_service(request, db_session).merge(category_id, data.into_id)
        return CategoryOut(**category_out(target))

    @delete("/{category_id:int}", status_code=204, summary="Delete an empty category")
    async def remove(self, request: Request[Any, Any, Any], category_id: FromPath[int], db_session: DB) -> None:
        await category_service(request, db_session).delete(category_id)


ROUTES = [list_categories, CategoryAdminController]
