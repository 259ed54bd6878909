"""Badge recomputation (docs/rules.md §16) writes only what changed: a re-run keeps the rows (and their
``computed_at``), a badge no longer earned is deleted, a renamed root category renames its medal."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.categories.models import Category
from marketplace.db import utcnow
from marketplace.listings.models import Listing
from marketplace.membership import services as membership
from marketplace.membership.models import MemberBadge, PlusMembership
from marketplace.settings import Settings
from tests.factories import make_order, make_user

Sessions = async_sessionmaker[AsyncSession]


async def badges(sessions: Sessions, user_id: int) -> dict[str, tuple[str, object]]:
    async with sessions() as s:
        rows = (await s.execute(select(MemberBadge.code, MemberBadge.name, MemberBadge.computed_at)
                                .where(MemberBadge.user_id == user_id))).tuples().all()
    return {code: (name, at) for code, name, at in rows}


async def test_rerun_writes_nothing_and_changes_are_applied(sessions: Sessions) -> None:
    now = utcnow()
    async with sessions() as s, s.begin():
        buyer = await make_user(s, coins=300)
        order = await make_order(s, buyer=buyer, price=300)
        order.status, order.completed_at = "completed", now - timedelta(days=1)
        s.add(PlusMembership(user_id=buyer.id, started_at=now, until=now + timedelta(days=30), auto_renew=False,
                             periods=1))
        listing = await s.get(Listing, order.listing_id)
        assert listing is not None
        root = await s.get(Category, listing.category_id)
        assert root is not None
        while root.parent_id is not None:
            root = await s.get(Category, root.parent_id)
            assert root is not None
        uid, root_id = buyer.id, root.id
    async with sessions() as s, s.begin():
        first = await membership.recompute_badges(s, now, Settings())
    held = await badges(sessions, uid)
    assert {"behaviour:purchases_1", "plus:member", f"medal:{root_id}"} <= set(held)
    async with sessions() as s, s.begin():
        again = await membership.recompute_badges(s, now + timedelta(hours=1), Settings())
    assert again == first
    assert await badges(sessions, uid) == held  # same rows, same computed_at: nothing rewritten

    async with sessions() as s, s.begin():
        plus = await s.get(PlusMembership, uid)
        assert plus is not None
        plus.until = now - timedelta(seconds=1)
        cat = await s.get(Category, root_id)
        assert cat is not None
        cat.name = "Renamed root"
    async with sessions() as s, s.begin():
        after = await membership.recompute_badges(s, now + timedelta(hours=2), Settings())
    assert after["plus"] == first["plus"] - 1
    now_held = await badges(sessions, uid)
    assert "plus:member" not in now_held
    assert now_held[f"medal:{root_id}"][0] == "Renamed root medal · 身份勋章"
    assert now_held["behaviour:purchases_1"] == held["behaviour:purchases_1"]
