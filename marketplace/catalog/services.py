"""Catalog use cases. The category tree lives in CategoryService."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.cache import Cache
from marketplace.catalog.models import Category


class CategoryService:
    def __init__(self, session: AsyncSession, cache: Cache | None = None) -> None:
        self.session = session
        self.cache = cache

    async def tree(self, *, include_hidden: bool = False) -> list[dict[str, Any]]:
        """Root nodes with nested ``children``, ordered by position then name."""
        stmt = select(Category).order_by(Category.position, Category.name)
        rows = list(await self.session.scalars(stmt))
        nodes = {
            c.id: {"id": c.id, "name": c.name, "slug": c.slug, "parent_id": c.parent_id, "position": c.position,
                   "hidden": c.hidden, "children": []}
            for c in rows
        }
        roots: list[dict[str, Any]] = []
        for c in rows:
            node = nodes[c.id]
            if c.hidden and not include_hidden:
                continue
            if c.parent_id is None:
                roots.append(node)
            elif c.parent_id in nodes:
                nodes[c.parent_id]["children"].append(node)
        return roots

    async def nav_tree(self) -> list[dict[str, Any]]:
        if self.cache is None:
            return await self.tree()
        return await self.cache.get_or_set("nav_tree", self.tree, depends_on=("categories",), ttl=600)
