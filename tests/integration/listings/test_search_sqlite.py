"""Search in the embedded (SQLite) configuration: the migration backfills search_text of existing listings, new
listings are indexed on insert, and the same queries find them through LIKE over the tokens."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text

from marketplace import migrate
from marketplace.db import create_engine, session_factory
from marketplace.listings.models import Listing
from marketplace.listings.services import BrowseQuery, ListingService
from marketplace.settings import Settings
from tests.factories import make_category, make_listing, make_user


async def test_sqlite_backfill_and_search(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/search.db"
    await migrate.upgrade_async(url, "0207_perf")  # before search_text existed
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO users (username, email, password_hash, is_admin, is_banned, created_at) "
                "VALUES ('old', 'old@example.com', '!', 0, 0, CURRENT_TIMESTAMP)"))
            await conn.execute(text("INSERT INTO categories (id, parent_id, name, slug, position, hidden, created_at) "
                                    "VALUES (1, NULL, '瓷器 Porcelain', 'porcelain', 0, 0, CURRENT_TIMESTAMP)"))
            await conn.execute(text(
                "INSERT INTO listings (seller_id, category_id, title, description, mode, status, featured, "
                "insertion_fee, free_listing, created_at, price, quantity, quantity_available, current_price, "
                "auto_extend, bid_count, version, shipping_fee) VALUES (1, 1, '清代青花花瓶一只', '品相完好', "
                "'fixed', 'active', 0, 0, 0, CURRENT_TIMESTAMP, 100, 1, 1, 100, 1, 0, 0, 0)"))
    finally:
        await engine.dispose()

    await migrate.upgrade_async(url)  # adds and backfills search_text
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        async with sessions() as s:
            assert await s.scalar(select(Listing.search_text)) == "清代 青花 花瓶 一只 品相 完好 瓷器 porcelain"
        async with sessions() as s, s.begin():
            seller = await make_user(s)
            kitchen = await make_category(s, "厨具 Kitchen")
            await make_listing(s, seller, kitchen, title="Cast iron skillet 铸铁锅")
            await make_listing(s, seller, kitchen, title="宜興紫砂茶壺 手工")
        async with sessions() as s:
            svc = ListingService(s, Settings(database_url=url))

            async def titles(q: str) -> list[str]:
                return sorted(lst.title for lst in (await svc.browse(BrowseQuery(q=q))).items)

            assert await titles("青花花瓶") == ["清代青花花瓶一只"]
            assert await titles("瓷器") == ["清代青花花瓶一只"]  # the category's name
            assert await titles("skillets") == ["Cast iron skillet 铸铁锅"]
            assert await titles("茶壶") == ["宜興紫砂茶壺 手工"]
            assert await titles("kitchen") == ["Cast iron skillet 铸铁锅", "宜興紫砂茶壺 手工"]
            assert await titles("kitchen 青花") == []
            assert await titles("花%") == []  # no wildcard leaks into LIKE
            result = await svc.browse(BrowseQuery(q="kitchen", facets=True))
            assert result.total == 2
            assert [(f.name, f.count) for f in result.facets] == [("厨具 Kitchen", 2)]
    finally:
        await engine.dispose()
