"""The renewal job on PostgreSQL: concurrency, grace without a charge, time travel, and the ledger audit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from marketplace.accounts.services import CurrentUser
from marketplace.jobs import JobContext, NullPublisher
from marketplace.listings.models import Listing
from marketplace.settings import Settings
from marketplace.shops import tasks
from marketplace.shops.models import Shop
from marketplace.shops.services import ShopService, listing_terms, listing_visible_clause
from marketplace.wallet import ledger
from marketplace.wallet.models import LedgerTransaction
from tests.factories import fund, make_listing, make_user

T0 = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)


class _NoQueue:
    async def enqueue(self, name: str, *args: Any, **kw: Any) -> None:
        return None


def ctx_at(settings: Settings, sessions: Any, when: datetime) -> JobContext:
    return JobContext(settings=settings, session_factory=sessions, queue=_NoQueue(), publisher=NullPublisher(),
                      now=lambda: when)


async def assert_ledger_balanced(sessions: Any) -> None:
    """Every transaction sums to zero and every running balance equals the sum of its entries."""
    async with sessions() as s:
        unbalanced = (await s.execute(text(
            "SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING SUM(amount) <> 0"
        ))).all()
        assert unbalanced == []
        drift = (await s.execute(text(
            "SELECT a.id FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id "
            "WHERE a.kind NOT IN ('revenue', 'topup_clearing', 'adjustments') "
            "GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(e.amount), 0)"
        ))).all()
        assert drift == []
        total = await s.scalar(text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entries"))
        assert total == 0


async def open_shop(sessions: Any, settings: Settings, coins: int, *, at: datetime = T0,
                    auto_renew: bool = True) -> tuple[int, int]:
    async with sessions() as s, s.begin():
        owner = await make_user(s, coins=coins)
        shop = await ShopService(s, settings).open_shop(owner.id, name="Renewal Test", plan="basic", now=at,
                                                        auto_renew=auto_renew)
        return owner.id, shop.id


async def shop_row(sessions: Any, shop_id: int) -> Shop:
    async with sessions() as s:
        shop = await s.get(Shop, shop_id)
        assert shop is not None
        return shop


async def available(sessions: Any, user_id: int) -> int:
    async with sessions() as s:
        return (await ledger.wallet_balances(s, user_id))[0]


async def renewal_charges(sessions: Any, shop_id: int) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "shop_plan", LedgerTransaction.ref_id == shop_id)) or 0)


async def test_renewal_job_run_twice_at_once_charges_once(settings: Settings, sessions: Any) -> None:
    owner_id, shop_id = await open_shop(sessions, settings, 1000)
    ids = []
    for _ in range(4):  # more shops due at the same moment, so the two runs really overlap
        ids.append((await open_shop(sessions, settings, 1000))[1])
    ctx = ctx_at(settings, sessions, T0 + 30 * DAY)
    first, second = await asyncio.gather(tasks.renew_shops(ctx), tasks.renew_shops(ctx))
    renewed = [o.shop_id for o in [*first, *second] if o.step == "renewed"]
    assert sorted(renewed) == sorted([shop_id, *ids])  # each shop renewed by exactly one of the runs
    assert await available(sessions, owner_id) == 800
    assert await renewal_charges(sessions, shop_id) == 2  # opening + one renewal
    shop = await shop_row(sessions, shop_id)
    assert (shop.status, shop.paid_until, shop.period_started_at) == ("active", T0 + 60 * DAY, T0 + 30 * DAY)
    # idempotent afterwards too
    assert await tasks.renew_shops(ctx) == []
    await assert_ledger_balanced(sessions)


async def test_advance_in_two_sessions_at_once_charges_once(settings: Settings, sessions: Any) -> None:
    owner_id, shop_id = await open_shop(sessions, settings, 300)
    when = T0 + 30 * DAY

    async def advance() -> str | None:
        async with sessions() as s, s.begin():
            return (await ShopService(s, settings).advance(shop_id, when)).step

    steps = await asyncio.gather(*(advance() for _ in range(5)))
    assert sorted(map(str, steps)) == ["None", "None", "None", "None", "renewed"]
    assert await available(sessions, owner_id) == 100
    await assert_ledger_balanced(sessions)


async def test_renewal_with_too_few_coins_moves_to_grace_and_charges_nothing(settings: Settings,
                                                                            sessions: Any) -> None:
    owner_id, shop_id = await open_shop(sessions, settings, 150)
    outcomes = await tasks.renew_shops(ctx_at(settings, sessions, T0 + 30 * DAY))
    assert [(o.shop_id, o.step, o.charged) for o in outcomes] == [(shop_id, "grace", 0)]
    assert await available(sessions, owner_id) == 50
    assert await renewal_charges(sessions, shop_id) == 1
    shop = await shop_row(sessions, shop_id)
    assert (shop.status, shop.paid_until) == ("grace", T0 + 30 * DAY)
    async with sessions() as s:
        terms = await listing_terms(s, owner_id, T0 + 31 * DAY, settings)
    assert (terms.can_list, terms.free) == (False, False)
    await assert_ledger_balanced(sessions)


async def test_auto_renew_off_goes_to_grace_even_with_coins(settings: Settings, sessions: Any) -> None:
    owner_id, shop_id = await open_shop(sessions, settings, 1000, auto_renew=False)
    await tasks.renew_shops(ctx_at(settings, sessions, T0 + 30 * DAY))
    assert (await shop_row(sessions, shop_id)).status == "grace"
    assert await available(sessions, owner_id) == 900


async def test_a_very_late_job_run_goes_straight_through_grace_to_suspended(settings: Settings,
                                                                           sessions: Any) -> None:
    _, shop_id = await open_shop(sessions, settings, 100)
    outcomes = await tasks.renew_shops(ctx_at(settings, sessions, T0 + 40 * DAY))
    assert [o.step for o in outcomes] == ["suspended"]
    assert (await shop_row(sessions, shop_id)).status == "suspended"


async def visible_in_browse(sessions: Any, listing_id: int) -> bool:
    """The browse filter GET /listings applies (shops.services.listing_visible_clause)."""
    async with sessions() as s:
        found = await s.scalar(select(Listing.id).where(Listing.id == listing_id, Listing.status == "active",
                                                        listing_visible_clause()))
        return found is not None


async def on_shop_page(sessions: Any, settings: Settings, shop_id: int, listing_id: int) -> bool:
    async with sessions() as s:
        shop = await s.get(Shop, shop_id)
        assert shop is not None
        cards, _ = await ShopService(s, settings).shop_listings(shop)
        return listing_id in [c.id for c in cards]


async def test_time_travel_renew_then_grace_then_suspended_then_back(settings: Settings, sessions: Any,
                                                                     client: Any) -> None:
    owner_id, shop_id = await open_shop(sessions, settings, 200)
    async with sessions() as s, s.begin():
        from marketplace.accounts.models import User

        owner = await s.get(User, owner_id)
        assert owner is not None
        listing = await make_listing(s, owner)
        listing.shop_id = shop_id
        listing_id = listing.id
        other = await make_listing(s, await make_user(s))
        other_id = other.id
    slug = (await shop_row(sessions, shop_id)).slug

    # 30 days later: auto-renewed from the 100 coins left.
    await tasks.renew_shops(ctx_at(settings, sessions, T0 + 30 * DAY))
    shop = await shop_row(sessions, shop_id)
    assert (shop.status, shop.paid_until) == ("active", T0 + 60 * DAY)
    assert await available(sessions, owner_id) == 0

    # 60 days: no coins left → grace: still visible, no new listings.
    await tasks.renew_shops(ctx_at(settings, sessions, T0 + 60 * DAY))
    assert (await shop_row(sessions, shop_id)).status == "grace"
    assert await visible_in_browse(sessions, listing_id)
    assert (await client.get(f"/api/v1/shops/{slug}")).status_code == 200
    assert (await client.get(f"/shops/{slug}")).status_code == 200

    # one second before the grace ends nothing happens; at 67 days it is suspended.
    assert await tasks.renew_shops(ctx_at(settings, sessions, T0 + 67 * DAY - timedelta(seconds=1))) == []
    await tasks.renew_shops(ctx_at(settings, sessions, T0 + 67 * DAY))
    assert (await shop_row(sessions, shop_id)).status == "suspended"
    assert not await visible_in_browse(sessions, listing_id)
    assert await visible_in_browse(sessions, other_id)  # other sellers are untouched
    assert (await client.get(f"/api/v1/shops/{slug}")).status_code == 404
    assert (await client.get(f"/shops/{slug}")).status_code == 404

    # paying the plan price brings it back from now.
    back_at = T0 + 70 * DAY
    async with sessions() as s, s.begin():
        await fund(s, owner_id, 100)
        me = CurrentUser(id=owner_id, username="x", email="x@example.com", is_admin=False)
        await ShopService(s, settings).renew(slug, me, now=back_at)
    shop = await shop_row(sessions, shop_id)
    assert (shop.status, shop.paid_until, shop.period_started_at) == ("active", back_at + 30 * DAY, back_at)
    assert await visible_in_browse(sessions, listing_id)
    assert await on_shop_page(sessions, settings, shop_id, listing_id)
    assert (await client.get(f"/api/v1/shops/{slug}")).status_code == 200
    assert await renewal_charges(sessions, shop_id) == 3
    await assert_ledger_balanced(sessions)


async def test_free_quota_counts_per_period(settings: Settings, sessions: Any) -> None:
    small = settings.with_(plans=(settings.plans[0].__class__("basic", "Basic", 100, 30, 2, 12),))
    owner_id, shop_id = await open_shop(sessions, small, 1000)
    async with sessions() as s, s.begin():
        from marketplace.accounts.models import User

        owner = await s.get(User, owner_id)
        assert owner is not None
        for created in (T0 + DAY, T0 + 2 * DAY):
            listing = await make_listing(s, owner)
            listing.shop_id, listing.free_listing, listing.created_at = shop_id, True, created
        paid = await make_listing(s, owner)  # a paid (non-free) listing never uses the quota
        paid.shop_id, paid.created_at = shop_id, T0 + 3 * DAY
    async with sessions() as s:
        terms = await listing_terms(s, owner_id, T0 + 5 * DAY, small)
        assert (terms.can_list, terms.free, terms.free_remaining, terms.max_images) == (True, False, 0, 12)
    await tasks.renew_shops(ctx_at(small, sessions, T0 + 30 * DAY))
    async with sessions() as s:
        terms = await listing_terms(s, owner_id, T0 + 30 * DAY, small, lock=True)
        assert (terms.free, terms.free_remaining) == (True, 2)
    async with sessions() as s:
        no_shop = await make_user(s)
        terms = await listing_terms(s, no_shop.id, T0, small)
        assert (terms.shop_id, terms.free, terms.max_images, terms.can_list) == (None, False, 6, True)
        await s.rollback()


async def test_job_bumps_the_shared_cache_versions(settings: Settings, sessions: Any, redis_url: str) -> None:
    from litestar.stores.redis import RedisStore
    from redis.asyncio import Redis

    from marketplace.cache import Cache

    _, shop_id = await open_shop(sessions, settings, 100)
    redis = Redis.from_url(redis_url)
    cache = Cache(RedisStore(redis, namespace="cache"))
    try:
        before = (await cache.version("shops"), await cache.version(f"shop:{shop_id}"))
        await tasks.renew_shops(ctx_at(settings.with_(redis_url=redis_url), sessions, T0 + 30 * DAY))
        after = (await cache.version("shops"), await cache.version(f"shop:{shop_id}"))
        assert before[0] != after[0]
        assert before[1] != after[1]
    finally:
        await redis.aclose()


async def test_owner_changes_bump_cache_versions_after_commit(settings: Settings, sessions: Any) -> None:
    from litestar.stores.memory import MemoryStore

    from marketplace.cache import Cache
    from marketplace.db import drain_after_commit

    cache = Cache(MemoryStore())
    before = await cache.version("shops")
    async with sessions() as s, s.begin():
        owner = await make_user(s, coins=100)
        shop = await ShopService(s, settings, cache).open_shop(owner.id, name="Cached", plan="basic", now=T0)
        await drain_after_commit()
        assert await cache.version("shops") == before  # nothing announced before the commit
    await drain_after_commit()
    opened = await cache.version("shops")
    assert opened != before
    me = CurrentUser(id=owner.id, username=owner.username, email=owner.email, is_admin=False)
    async with sessions() as s, s.begin():
        await ShopService(s, settings, cache).update(shop.slug, me, now=T0, name="Renamed")
    await drain_after_commit()
    assert await cache.version("shops") != opened
    assert await cache.version(f"shop:{shop.id}")
