"""Blocks (积木式查询显示, docs/rules.md §18): admin-composed saved queries rendered in page slots.

A slot (``home``, ``category:<id>``, ``member_day``) shows its active blocks in position order; each block's
items come from the listings domain's browse query, so every visibility rule of browsing holds here too. A slot
is cached as JSON keyed by the versions of what it shows (blocks, listings, categories, shops).
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.cache import Cache
from marketplace.categories.models import Category
from marketplace.db import after_commit
from marketplace.errors import DomainError, InvalidInput, NotFound
from marketplace.i18n import N_
from marketplace.settings import Settings
from marketplace.site import rules
from marketplace.site.browse import BrowseQuery, ListingService
from marketplace.site.models import Block

log = logging.getLogger(__name__)

# The home page as it was hard-coded before blocks (the 0205 migration inserts the same rows); shown while the
# home slot has no block at all. English ids: the block template shows a title through translate().
DEFAULT_HOME_BLOCKS: tuple[tuple[str, dict[str, Any]], ...] = (
    (N_("Featured"), {"featured": True, "sort": "newest"}),
    (N_("Ending soon"), {"mode": "auction", "sort": "ending_soon"}),
    (N_("Newest"), {"sort": "newest", "featured_first": True}),
)
SLOT_DEPENDS = ("blocks", "listings", "categories", "shops")


def block_out(block: Block) -> dict[str, Any]:
    return {"id": block.id, "title": block.title, "slot": block.slot, "position": block.position,
            "display": block.display, "limit": block.item_limit, "active": block.active,
            "query": dict(block.query or {})}


def _spec(block: Block) -> rules.BlockSpec:
    return rules.BlockSpec(title=block.title, slot=block.slot, position=block.position, display=block.display,
                           limit=block.item_limit, active=block.active, query=dict(block.query or {}))


class BlockService:
    def __init__(self, session: AsyncSession, settings: Settings, cache: Cache | None = None) -> None:
        self.session = session
        self.settings = settings
        self.cache = cache

    # --- admin ---------------------------------------------------------------------------------------------------

    async def all(self, slot: str | None = None) -> list[Block]:
        stmt = select(Block).order_by(Block.slot, Block.position, Block.id)
        if slot:
            stmt = stmt.where(Block.slot == rules.check_slot(slot))
        return list(await self.session.scalars(stmt))

    async def get(self, block_id: int) -> Block:
        block = await self.session.get(Block, block_id)
        if block is None:
            raise NotFound("Block not found.")
        return block

    async def _check_refs(self, spec: rules.BlockSpec) -> None:
        for category_id in (rules.slot_category(spec.slot), spec.query.get("category_id")):
            if category_id is not None and await self.session.get(Category, category_id) is None:
                raise InvalidInput("Unknown category %(category_id)s.", category_id=category_id)

    async def create(self, data: dict[str, Any]) -> Block:
        spec = rules.check_block(data)
        await self._check_refs(spec)
        block = Block(title=spec.title, slot=spec.slot, position=spec.position, display=spec.display,
                      item_limit=spec.limit, active=spec.active, query=spec.query)
        self.session.add(block)
        await self.session.flush()
        await self._changed()
        return block

    async def update(self, block_id: int, data: dict[str, Any]) -> Block:
        block = await self.get(block_id)
        spec = rules.check_block(data, _spec(block))
        await self._check_refs(spec)
        block.title, block.slot, block.position, block.display = spec.title, spec.slot, spec.position, spec.display
        block.item_limit, block.active, block.query = spec.limit, spec.active, spec.query
        await self.session.flush()
        await self._changed()
        return block

    async def move(self, block_id: int, step: int) -> Block:
        """Swap a block with its neighbour above (step -1) or below (+1) in its slot; positions become 0..n-1."""
        block = await self.get(block_id)
        siblings = list(await self.all(block.slot))
        index = siblings.index(block)
        target = index + step
        if 0 <= target < len(siblings):
            siblings[index], siblings[target] = siblings[target], siblings[index]
        for position, sibling in enumerate(siblings):
            sibling.position = position
        await self.session.flush()
        await self._changed()
        return block

    async def delete(self, block_id: int) -> None:
        await self.session.delete(await self.get(block_id))
        await self.session.flush()
        await self._changed()

    async def _changed(self) -> None:
        cache = self.cache
        if cache is None:
            return
        await cache.bump("blocks")
        after_commit(self.session, lambda: cache.bump("blocks"))

    # --- rendering -----------------------------------------------------------------------------------------------

    async def items(self, query: dict[str, Any], limit: int, viewer_id: int | None = None) -> list[dict[str, Any]]:
        known = {k: v for k, v in query.items() if k in rules.QUERY_FIELDS}
        listings = ListingService(self.session, self.settings)
        result = await listings.browse(BrowseQuery(page=1, per_page=limit, **known))
        return [msgspec.to_builtins(out) for out in await listings.out_many(result.items, viewer_id)]

    async def render_slot(self, slot: str, viewer_id: int | None = None) -> list[dict[str, Any]]:
        """``[{id, title, display, items}]`` of the slot's active blocks in position order; empty blocks are
        kept (the API shows them) and a block whose query no longer works (its category deleted) is skipped."""
        rules.check_slot(slot)
        rows = await self.all(slot)
        specs: list[tuple[int | None, str, str, int, dict[str, Any]]]
        if not rows and slot == "home":
            specs = [(None, title, "grid", 8, query) for title, query in DEFAULT_HOME_BLOCKS]
        else:
            specs = [(b.id, b.title, b.display, b.item_limit, dict(b.query or {})) for b in rows if b.active]
        out = []
        for block_id, title, display, limit, query in specs:
            try:
                items = await self.items(query, limit, viewer_id)
            except DomainError as exc:
                log.warning("block %s skipped: %s", block_id, exc.detail)
                continue
            out.append({"id": block_id, "title": title, "display": display, "items": items})
        return out

    async def cached_slot(self, slot: str) -> list[dict[str, Any]]:
        """The anonymous view of a slot from the shared cache (cards show nothing viewer-specific)."""
        rules.check_slot(slot)
        if self.cache is None:
            return await self.render_slot(slot)
        return await self.cache.get_or_set(f"slot:{slot}", lambda: self.render_slot(slot),
                                           depends_on=SLOT_DEPENDS, type_=list[dict[str, Any]])


class SiteBlockSlots:
    """The listings domain's :class:`~marketplace.listings.ports.BlockSlots` port (home and category pages)."""

    async def slot(self, session: AsyncSession, settings: Settings, cache: Cache, slot: str) -> list[dict[str, Any]]:
        return await BlockService(session, settings, cache).cached_slot(slot)
