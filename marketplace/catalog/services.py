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

    # --- read helpers used by listings, search and pages ---------------------------------------------------

    async def get(self, category_id: int) -> Category:
        from marketplace.errors import NotFound

        cat = await self.session.get(Category, category_id)
        if cat is None:
            raise NotFound("Category not found.")
        return cat

    async def get_by_slug(self, slug: str, *, include_hidden: bool = False) -> Category:
        """A browsable category; hidden ones (or ones under a hidden ancestor) are 404 unless asked for."""
        from marketplace.errors import NotFound

        cat = await self.session.scalar(select(Category).where(Category.slug == slug))
        if cat is None or (not include_hidden and await self.is_hidden(cat.id)):
            raise NotFound("Category not found.")
        return cat

    async def ancestors(self, category_id: int) -> list[Category]:
        """The path from the root down to and including ``category_id`` (for breadcrumbs)."""
        path: list[Category] = []
        current: int | None = category_id
        while current is not None and len(path) < 64:
            cat = await self.session.get(Category, current)
            if cat is None:
                break
            path.append(cat)
            current = cat.parent_id
        return list(reversed(path))

    async def is_hidden(self, category_id: int) -> bool:
        """Hidden itself or under a hidden ancestor."""
        return any(c.hidden for c in await self.ancestors(category_id))

    async def descendant_ids(self, category_id: int) -> list[int]:
        """``category_id`` and every category below it (browsing a category includes its descendants)."""
        rows = (await self.session.execute(select(Category.id, Category.parent_id))).all()
        children: dict[int | None, list[int]] = {}
        for cid, pid in rows:
            children.setdefault(pid, []).append(cid)
        out, stack = [], [category_id]
        while stack:
            cid = stack.pop()
            out.append(cid)
            stack.extend(children.get(cid, []))
        return out

    async def hidden_ids(self) -> set[int]:
        """Every category that is hidden or lies under a hidden one (their listings are hidden too)."""
        rows = (await self.session.execute(select(Category.id, Category.parent_id, Category.hidden))).all()
        children: dict[int | None, list[int]] = {}
        for cid, pid, _ in rows:
            children.setdefault(pid, []).append(cid)
        out: set[int] = set()
        stack = [cid for cid, _, hidden in rows if hidden]
        while stack:
            cid = stack.pop()
            if cid not in out:
                out.add(cid)
                stack.extend(children.get(cid, []))
        return out

    async def is_leaf(self, category_id: int) -> bool:
        return await self.session.scalar(select(Category.id).where(Category.parent_id == category_id).limit(1)) is None
