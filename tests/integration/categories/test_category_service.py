"""CategoryService on PostgreSQL: every admin write, what it refuses, and that a refusal changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar.stores.memory import MemoryStore
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.cache import Cache
from marketplace.categories.exceptions import (
    CategoryCycle,
    CategoryNotEmpty,
    CategoryNotFound,
    CategoryTooDeep,
    DuplicateCategoryName,
    InvalidCategoryName,
    InvalidMerge,
    SlugTaken,
    UnknownParent,
)
from marketplace.categories.models import Category
from marketplace.categories.services import CategoryService
from marketplace.db import drain_after_commit
from marketplace.errors import Conflict
from marketplace.listings.models import Listing
from tests.factories import make_user

Sessions = async_sessionmaker[AsyncSession]


async def add_listing(session: AsyncSession, category_id: int, *, status: str = "active") -> Listing:
    seller = await make_user(session)
    listing = Listing(seller_id=seller.id, category_id=category_id, title="Thing", mode="fixed", status=status,
                      price=10, current_price=10, quantity=1, quantity_available=1)
    session.add(listing)
    await session.flush()
    return listing


async def snapshot(sessions: Sessions) -> dict[int, tuple[int | None, str, str, int, bool]]:
    async with sessions() as s:
        rows = await s.execute(select(Category.id, Category.parent_id, Category.name, Category.slug,
                                      Category.position, Category.hidden))
        return {r[0]: tuple(r[1:]) for r in rows.all()}  # type: ignore[misc]


async def build(sessions: Sessions) -> dict[str, int]:
    """Electronics ─┬─ Phones ── Used;  Electronics ── Computers;  Books."""
    async with sessions() as s, s.begin():
        svc = CategoryService(s)
        e = await svc.create("数码 Electronics")
        p = await svc.create("Phones", e.id)
        c = await svc.create("Computers", e.id)
        u = await svc.create("Used", p.id)
        b = await svc.create("Books")
        return {"electronics": e.id, "phones": p.id, "computers": c.id, "used": u.id, "books": b.id}


async def refused(sessions: Sessions, exc: type[Exception], fn: Any) -> None:
    """Run ``fn(service)`` in its own transaction, expect ``exc``, and check the tree did not change."""
    before = await snapshot(sessions)
    with pytest.raises(exc):
        async with sessions() as s, s.begin():
            await fn(CategoryService(s))
    assert await snapshot(sessions) == before


async def test_create_slugs_positions_and_refusals(sessions: Sessions) -> None:
    ids = await build(sessions)
    async with sessions() as s, s.begin():
        svc = CategoryService(s)
        e = await svc.get(ids["electronics"])
        assert (e.slug, e.position, e.parent_id) == ("electronics", 0, None)
        assert (await svc.get(ids["books"])).position == 1
        assert (await svc.get(ids["computers"])).position == 1  # appended after Phones
        zh = await svc.create("手机")
        assert zh.slug == f"cat-{zh.id}"
        twin = await svc.create("Electronics", ids["books"])  # same slug base elsewhere in the tree
        assert twin.slug == "electronics-2"
        assert (await svc.create("  Spaced   Out ")).name == "Spaced Out"
    await refused(sessions, DuplicateCategoryName, lambda svc: svc.create(" PHONES ", ids["electronics"]))
    await refused(sessions, DuplicateCategoryName, lambda svc: svc.create("books"))
    await refused(sessions, UnknownParent, lambda svc: svc.create("Orphan", 999_999))
    await refused(sessions, InvalidCategoryName, lambda svc: svc.create("x" * 61))
    await refused(sessions, InvalidCategoryName, lambda svc: svc.create("   "))


async def test_depth_limit_on_create_and_move(sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        svc = CategoryService(s, max_depth=6)
        parent = None
        chain = []
        for level in range(1, 7):
            parent = await svc.create(f"Level {level}", parent.id if parent else None)
            chain.append(parent.id)
        other = await svc.create("Other")
        child = await svc.create("Child", other.id)
    await refused(sessions, CategoryTooDeep, lambda svc: svc.create("Level 7", chain[-1]))
    await refused(sessions, CategoryTooDeep, lambda svc: svc.move(other.id, chain[-2]))  # 2 levels under level 5
    async with sessions() as s, s.begin():
        await CategoryService(s).move(child.id, chain[-2])  # a leaf under level 5 is level 6: fine
    assert (await snapshot(sessions))[child.id][0] == chain[-2]


async def test_rename_keeps_slug_and_refuses_sibling_clash(sessions: Sessions) -> None:
    ids = await build(sessions)
    async with sessions() as s, s.begin():
        cat = await CategoryService(s).rename(ids["phones"], "Mobile phones")
        assert (cat.name, cat.slug) == ("Mobile phones", "phones")
    await refused(sessions, DuplicateCategoryName, lambda svc: svc.rename(ids["phones"], "computers"))
    await refused(sessions, CategoryNotFound, lambda svc: svc.rename(999_999, "Ghost"))
    async with sessions() as s, s.begin():
        await CategoryService(s).set_slug(ids["phones"], "mobiles")
    await refused(sessions, SlugTaken, lambda svc: svc.set_slug(ids["phones"], "books"))


async def test_move_and_cycles(sessions: Sessions) -> None:
    ids = await build(sessions)
    await refused(sessions, CategoryCycle, lambda svc: svc.move(ids["electronics"], ids["used"]))
    await refused(sessions, CategoryCycle, lambda svc: svc.move(ids["phones"], ids["phones"]))
    await refused(sessions, UnknownParent, lambda svc: svc.move(ids["phones"], 999_999))
    async with sessions() as s, s.begin():
        svc = CategoryService(s)
        moved = await svc.move(ids["phones"], ids["books"])
        assert (moved.parent_id, moved.position) == (ids["books"], 0)
        root = await svc.move(ids["used"], None)
        assert root.parent_id is None
        assert root.position == 2  # after Electronics and Books


async def test_reorder_renumbers_siblings(sessions: Sessions) -> None:
    ids = await build(sessions)
    async with sessions() as s, s.begin():
        svc = CategoryService(s)
        await svc.create("Cameras", ids["electronics"])
        await svc.reorder(ids["computers"], 0)
    async with sessions() as s:
        names = [c["name"] for c in (await CategoryService(s).tree())[0]["children"]]
    assert names == ["Computers", "Phones", "Cameras"]
    async with sessions() as s, s.begin():
        await CategoryService(s).reorder(ids["computers"], 50)
    async with sessions() as s:
        names = [c["name"] for c in (await CategoryService(s).tree())[0]["children"]]
    assert names == ["Phones", "Cameras", "Computers"]


async def test_hide_hides_the_subtree(sessions: Sessions) -> None:
    ids = await build(sessions)
    async with sessions() as s, s.begin():
        await CategoryService(s).set_hidden(ids["phones"], True)
    async with sessions() as s:
        svc = CategoryService(s)
        visible = (await svc.tree())[0]["children"]
        assert [c["name"] for c in visible] == ["Computers"]
        full = (await svc.tree(include_hidden=True))[0]["children"]
        assert [(c["name"], c["hidden"]) for c in full] == [("Phones", True), ("Computers", False)]
        assert await svc.hidden_ids() == {ids["phones"], ids["used"]}
        assert await svc.is_hidden(ids["used"])
    async with sessions() as s, s.begin():
        await CategoryService(s).set_hidden(ids["phones"], False)
    async with sessions() as s:
        assert await CategoryService(s).hidden_ids() == set()


async def test_merge_moves_listings_and_children_and_deletes_source(sessions: Sessions) -> None:
    ids = await build(sessions)
    async with sessions() as s, s.begin():
        svc = CategoryService(s)
        old = await svc.create("Old computers")  # a leaf with listings of several statuses
        listings = [await add_listing(s, old.id), await add_listing(s, old.id, status="sold")]
        await add_listing(s, ids["computers"])
    async with sessions() as s, s.begin():
        target = await CategoryService(s).merge(old.id, ids["computers"])
        assert target.id == ids["computers"]
    async with sessions() as s:
        assert await s.get(Category, old.id) is None
        moved = await s.scalars(select(Listing.category_id).where(Listing.id.in_([x.id for x in listings])))
        assert set(moved) == {ids["computers"]}
    # children move too: Phones (with Used below it) merges into Books, keeping Used
    async with sessions() as s, s.begin():
        await CategoryService(s).merge(ids["phones"], ids["books"])
    tree = await snapshot(sessions)
    assert ids["phones"] not in tree
    assert tree[ids["used"]][0] == ids["books"]


async def test_invalid_merges_change_nothing(sessions: Sessions) -> None:
    ids = await build(sessions)
    async with sessions() as s, s.begin():
        await add_listing(s, ids["computers"])
        await CategoryService(s).create("used", ids["books"])
    await refused(sessions, InvalidMerge, lambda svc: svc.merge(ids["electronics"], ids["used"]))
    await refused(sessions, InvalidMerge, lambda svc: svc.merge(ids["phones"], ids["phones"]))
    await refused(sessions, InvalidMerge, lambda svc: svc.merge(ids["computers"], ids["electronics"]))
    await refused(sessions, DuplicateCategoryName, lambda svc: svc.merge(ids["phones"], ids["books"]))
    await refused(sessions, CategoryNotFound, lambda svc: svc.merge(ids["phones"], 999_999))
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Listing)) == 1


async def test_delete_only_empty(sessions: Sessions) -> None:
    ids = await build(sessions)
    async with sessions() as s, s.begin():
        await add_listing(s, ids["computers"], status="ended")
    await refused(sessions, CategoryNotEmpty, lambda svc: svc.delete(ids["phones"]))
    await refused(sessions, CategoryNotEmpty, lambda svc: svc.delete(ids["computers"]))
    await refused(sessions, CategoryNotFound, lambda svc: svc.delete(999_999))
    async with sessions() as s, s.begin():
        await CategoryService(s).delete(ids["used"])
    assert ids["used"] not in await snapshot(sessions)


async def test_writes_invalidate_the_cached_nav_tree(sessions: Sessions) -> None:
    cache = Cache(MemoryStore())
    ids = await build(sessions)
    async with sessions() as s:
        assert [c["name"] for c in await CategoryService(s, cache=cache).nav_tree()] == ["数码 Electronics", "Books"]
    async with sessions() as s, s.begin():
        await CategoryService(s, cache=cache).rename(ids["books"], "Books & Magazines")
    await drain_after_commit()
    async with sessions() as s:
        names = [c["name"] for c in await CategoryService(s, cache=cache).nav_tree()]
    assert names == ["数码 Electronics", "Books & Magazines"]


async def test_concurrent_crossing_moves_cannot_build_a_cycle(sessions: Sessions) -> None:
    """A under B and B under A at once: each is valid alone; the tree lock lets exactly one through."""
    async with sessions() as s, s.begin():
        svc = CategoryService(s)
        a, b = await svc.create("A"), await svc.create("B")
    start = asyncio.Event()

    async def move(node: int, parent: int) -> str:
        async with sessions() as s:
            await start.wait()
            try:
                async with s.begin():
                    await CategoryService(s).move(node, parent)
                    await asyncio.sleep(0.05)  # hold the lock while the other writer arrives
            except Conflict:
                return "refused"
            return "moved"

    tasks = [asyncio.create_task(move(a.id, b.id)), asyncio.create_task(move(b.id, a.id))]
    await asyncio.sleep(0.01)
    start.set()
    assert sorted(await asyncio.gather(*tasks)) == ["moved", "refused"]
    tree = await snapshot(sessions)
    assert [tree[a.id][0], tree[b.id][0]].count(None) == 1


async def test_concurrent_same_name_creates_one(sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        parent = await CategoryService(s).create("Parent")

    async def create(name: str) -> str:
        async with sessions() as s:
            try:
                async with s.begin():
                    await CategoryService(s).create(name, parent.id)
            except Conflict:
                return "refused"
            return "created"

    assert sorted(await asyncio.gather(create("Twin"), create("TWIN"))) == ["created", "refused"]
