"""Catalog use cases. The category tree lives in CategoryService."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.cache import Cache
from marketplace.categories import ports, rules
from marketplace.categories.exceptions import CategoryNotFound, SlugTaken
from marketplace.categories.models import Category
from marketplace.db import after_commit
from marketplace.errors import NotFound

# Any constant works: it only has to be the same for every writer of the category tree.
_TREE_LOCK_KEY = 0x0CA7E6


def category_out(cat: Category) -> dict[str, Any]:
    """The API's category node without children (docs/api.md Categories)."""
    return {"id": cat.id, "name": cat.name, "slug": cat.slug, "parent_id": cat.parent_id,
            "position": cat.position, "hidden": cat.hidden}


class TreeSnapshot:
    """The category tree as read at one moment: ``(id, parent_id, name, slug, hidden)`` rows."""

    def __init__(self, rows: list[tuple[int, int | None, str, str, bool]]) -> None:
        self.rows = rows
        self.children: dict[int | None, list[int]] = {}
        for cid, pid, _, _, _ in rows:
            self.children.setdefault(pid, []).append(cid)
        self.ids = {row[0] for row in rows}

    def descendant_ids(self, category_id: int) -> list[int]:
        """``category_id`` and every category below it."""
        out, stack = [], [category_id]
        while stack:
            cid = stack.pop()
            out.append(cid)
            stack.extend(self.children.get(cid, []))
        return out

    def hidden_ids(self) -> set[int]:
        """Every category that is hidden or lies under a hidden one."""
        out: set[int] = set()
        stack = [cid for cid, _, _, _, hidden in self.rows if hidden]
        while stack:
            cid = stack.pop()
            if cid not in out:
                out.add(cid)
                stack.extend(self.children.get(cid, []))
        return out


class CategoryService:
    """The category tree (docs/rules.md §10).

    Every write first takes the tree lock, then reads a fresh snapshot and lets :mod:`categories.rules` decide, so
    two admins moving nodes at once can never build a cycle between them, and sibling names stay unique even
    case-insensitively (which the database's (parent_id, name) constraint alone cannot promise).
    """

    def __init__(self, session: AsyncSession, cache: Cache | None = None, *, max_depth: int = 6) -> None:
        self.session = session
        self.cache = cache
        self.max_depth = max_depth

    async def tree(self, *, include_hidden: bool = False) -> list[dict[str, Any]]:
        """Root nodes with nested ``children``, ordered by position then name."""
        stmt = select(Category).order_by(Category.position, Category.name, Category.id)
        rows = list(await self.session.scalars(stmt))
        nodes: dict[int, dict[str, Any]] = {c.id: {**category_out(c), "children": []} for c in rows}
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
        cat = await self.session.get(Category, category_id)
        if cat is None:
            raise NotFound("Category not found.")
        return cat

    async def get_by_slug(self, slug: str, *, include_hidden: bool = False) -> Category:
        """A browsable category; hidden ones (or ones under a hidden ancestor) are 404 unless asked for."""
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

    async def snapshot(self) -> TreeSnapshot:
        """The whole tree in one small read (id, parent, name, slug, hidden): browsing asks it for a category's
        existence, its descendants, the hidden ids and the facets' paths, one round trip instead of three
        (docs/performance.md, P3). Fresh on every call: a hidden category is left out at once."""
        rows = (await self.session.execute(
            select(Category.id, Category.parent_id, Category.name, Category.slug, Category.hidden))).tuples().all()
        return TreeSnapshot([(int(cid), pid, name, slug, bool(hidden)) for cid, pid, name, slug, hidden in rows])

    async def descendant_ids(self, category_id: int) -> list[int]:
        """``category_id`` and every category below it (browsing a category includes its descendants)."""
        return (await self.snapshot()).descendant_ids(category_id)

    async def hidden_ids(self) -> set[int]:
        """Every category that is hidden or lies under a hidden one (their listings are hidden too)."""
        return (await self.snapshot()).hidden_ids()

    async def is_leaf(self, category_id: int) -> bool:
        return await self.session.scalar(select(Category.id).where(Category.parent_id == category_id).limit(1)) is None

    async def listing_counts(self) -> dict[int, int]:
        """Listings of any status placed directly in each category (the admin page shows them)."""
        return await ports.listings().counts(self.session)

    # --- admin writes ----------------------------------------------------------------------------------------

    async def create(self, name: str, parent_id: int | None = None) -> Category:
        """A new category at the end of its parent's children, with a unique slug made from its name."""
        tree = await self._lock_tree()
        clean = rules.check_create(tree, parent_id, name, self.max_depth)
        if parent_id is not None:
            # The parent stops being a leaf: a listing being placed in it (which locks the category row and
            # checks it is a leaf) must see either the old tree or the new one, never decide in between.
            await self._locked(parent_id)
        base = rules.slug_base(clean)
        cat = Category(name=clean, parent_id=parent_id, position=rules.append_position(tree, parent_id),
                       hidden=False, slug=await self._free_slug(base) if base else f"tmp-{secrets.token_hex(8)}")
        self.session.add(cat)
        await self.session.flush()
        if not base:  # an all-Chinese name: the readable fallback needs the id
            cat.slug = await self._free_slug(rules.fallback_slug(cat.id))
            await self.session.flush()
        await self._changed()
        return cat

    async def update(self, category_id: int, changes: Mapping[str, Any]) -> Category:
        """Apply the given changes (keys ``parent_id``, ``name``, ``slug``, ``position``, ``hidden``) in that order.

        Each step is checked on its own; the caller's transaction rolls all of them back when one is refused.
        """
        cat = await self.get(category_id)
        if "parent_id" in changes:
            cat = await self.move(category_id, changes["parent_id"])
        if "name" in changes:
            cat = await self.rename(category_id, changes["name"])
        if "slug" in changes:
            cat = await self.set_slug(category_id, changes["slug"])
        if "position" in changes:
            cat = await self.reorder(category_id, changes["position"])
        if "hidden" in changes:
            cat = await self.set_hidden(category_id, changes["hidden"])
        return cat

    async def rename(self, category_id: int, name: str) -> Category:
        """New display name; the slug stays, so links to /c/{slug} keep working."""
        tree = await self._lock_tree()
        cat = await self._locked(category_id)
        new_name = rules.check_rename(tree, category_id, name)
        if new_name != cat.name:
            cat.name = new_name
            await self.session.flush()
            await ports.listings().reindex(self.session, category_id)
        await self._changed()
        return cat

    async def set_slug(self, category_id: int, slug: str) -> Category:
        await self._lock_tree()
        cat = await self._locked(category_id)
        slug = rules.check_slug(slug)
        if slug != cat.slug:
            if await self.session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
                raise SlugTaken()
            cat.slug = slug
            await self.session.flush()
            await self._changed()
        return cat

    async def move(self, category_id: int, parent_id: int | None) -> Category:
        """Re-parent a category (with its subtree) at the end of the new parent's children."""
        tree = await self._lock_tree()
        cat = await self._locked(category_id)
        rules.check_move(tree, category_id, parent_id, self.max_depth)
        if cat.parent_id != parent_id:
            if parent_id is not None:
                await self._locked(parent_id)  # it may stop being a leaf, as in create()
            cat.parent_id = parent_id
            cat.position = rules.append_position(tree, parent_id)
            await self.session.flush()
            await ports.listings().reindex(self.session, category_id)
            await self._changed()
        return cat

    async def reorder(self, category_id: int, position: int) -> Category:
        """Put a category at ``position`` (0-based, clamped) among its siblings; the siblings are renumbered."""
        tree = await self._lock_tree()
        cat = await self._locked(category_id)
        siblings = [n.id for n in tree.children(cat.parent_id)]
        new_positions = rules.reorder(siblings, category_id, position)
        rows = await self.session.scalars(select(Category).where(Category.id.in_(new_positions))
                                          .order_by(Category.id).with_for_update())
        for row in rows:
            row.position = new_positions[row.id]
        await self.session.flush()
        await self._changed()
        return cat

    async def set_hidden(self, category_id: int, hidden: bool) -> Category:
        """Hidden: not browsable, and its subtree's listings are hidden with it (docs/rules.md §10)."""
        await self._lock_tree()
        cat = await self._locked(category_id)
        if cat.hidden != hidden:
            cat.hidden = hidden
            await self.session.flush()
            await self._changed()
        return cat

    async def merge(self, source_id: int, into_id: int) -> Category:
        """Listings and children of the source move into the target; the source is deleted. Returns the target."""
        tree = await self._lock_tree()
        # Row locks on both: a listing being inserted into either waits for us (its foreign key check needs a
        # KEY SHARE lock on the category row), so no listing is left behind in the deleted source.
        source, target = await self._locked(source_id), await self._locked(into_id)
        plan = rules.check_merge(tree, source_id, into_id, self.max_depth,
                                 source_listings=await self._active_listings(source_id),
                                 target_listings=await self._active_listings(into_id))
        await ports.listings().move(self.session, source.id, target.id)
        position = rules.append_position(tree, target.id)
        children = {c.id: c for c in await self.session.scalars(
            select(Category).where(Category.id.in_(plan.children)).order_by(Category.id).with_for_update())}
        for offset, child_id in enumerate(plan.children):
            children[child_id].parent_id = target.id
            children[child_id].position = position + offset
        await self.session.flush()
        await self.session.delete(source)
        await self.session.flush()
        await ports.listings().reindex(self.session, target.id)
        await self._changed()
        return target

    async def delete(self, category_id: int) -> None:
        """Only an empty category goes: no sub-categories and no listings of any status."""
        tree = await self._lock_tree()
        cat = await self._locked(category_id)
        count = await ports.listings().count(self.session, category_id)
        rules.check_delete(tree, category_id, count)
        await self.session.delete(cat)
        await self.session.flush()
        await self._changed()

    # --- internals -------------------------------------------------------------------------------------------

    async def _lock_tree(self) -> rules.Tree:
        """Serialise writers of the tree, then snapshot it.

        A cycle or a depth overflow is a property of the whole tree, not of one row, so row locks on the nodes
        being changed are not enough: two concurrent moves (A under B, B under A) each look fine alone. On
        PostgreSQL one transaction-scoped advisory lock serialises the writers (it also covers inserts, which no
        row lock can); SQLite transactions already begin with BEGIN IMMEDIATE, one writer at a time. The snapshot
        is read after the lock, as column tuples, so it is fresh and never served from the identity map.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _TREE_LOCK_KEY})
        rows = await self.session.execute(
            select(Category.id, Category.parent_id, Category.name, Category.hidden, Category.position))
        return rules.Tree(rules.Node(*row) for row in rows.all())

    async def _locked(self, category_id: int) -> Category:
        cat = await self.session.scalar(
            select(Category).where(Category.id == category_id).with_for_update()
            .execution_options(populate_existing=True))
        if cat is None:
            raise CategoryNotFound("Category %(category_id)s not found.", category_id=category_id)
        return cat

    async def _active_listings(self, category_id: int) -> int:
        return await ports.listings().count(self.session, category_id, active_only=True)

    async def _free_slug(self, base: str) -> str:
        # The base is [a-z0-9-] only, so it carries no LIKE wildcards.
        taken = await self.session.scalars(
            select(Category.slug).where(or_(Category.slug == base, Category.slug.like(f"{base}-%"))))
        return rules.unique_slug(base, set(taken))

    async def _changed(self) -> None:
        """Invalidate cached trees: now, and again once committed.

        The first bump makes this request's own later reads fresh; the second closes the window in which a
        concurrent reader could cache the *old* tree under the new version before our commit became visible.
        """
        cache = self.cache
        if cache is None:
            return
        await cache.bump("categories")
        after_commit(self.session, lambda: cache.bump("categories"))


class CategoryNavigation:
    """The cached category navigation of every page (the :class:`web.pages.Navigation` port)."""

    def __init__(self, cache: Cache | None) -> None:
        self.cache = cache

    async def nav_tree(self, db: AsyncSession) -> list[dict[str, Any]]:
        return await CategoryService(db, cache=self.cache).nav_tree()
