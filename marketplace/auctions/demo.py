"""Demo auctions for ``marketplace demo``: bob and carol get coins to bid against each other, and alice sells one
short auction that closes while you watch."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.categories.models import Category
from marketplace.db import utcnow
from marketplace.listings.demo_data import demo_photo
from marketplace.listings.models import Listing
from marketplace.listings.services import ListingService
from marketplace.settings import Settings
from marketplace.wallet import ledger

DEMO_COINS = 5000


async def seed(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    seller, bidders = users.get("alice"), [users[u] for u in ("bob", "carol") if u in users]
    if seller is None:
        return
    for bidder in bidders:
        available, _held = await ledger.wallet_balances(session, bidder.id)
        if available < DEMO_COINS:
            await ledger.post(session, kind="adjustment", ref_type="user", ref_id=bidder.id, memo="demo coins",
                              legs=[ledger.Leg(ledger.platform("adjustments"), -(DEMO_COINS - available)),
                                    ledger.Leg(ledger.available(bidder.id), DEMO_COINS - available)])
    now = utcnow()
    short = max(settings.min_auction_seconds, 600)

    async def category(slug: str) -> int | None:
        found = await session.scalar(select(Category.id).where(Category.slug == slug))
        return int(found) if found is not None else None

    # One short auction to watch close live (the catalog's demo data has the longer ones).
    specs = [
        ("Leica M3 rangefinder (1957) · 徕卡M3旁轴相机", "cameras", 100, None, None, short,
         "A working M3 with a 50 mm Summicron. Bid live from two browsers: the page updates without a reload."),
    ]
    for title, slug, start, reserve, buy_now, seconds, description in specs:
        category_id = await category(slug)
        if category_id is None:
            continue
        listing = Listing(
            seller_id=seller.id, category_id=category_id, title=title, description=description, mode="auction",
            status="active", start_price=start, current_price=start, reserve_price=reserve, buy_now_price=buy_now,
            duration_seconds=seconds, auto_extend=True, ends_at=now + timedelta(seconds=seconds), quantity=1,
            quantity_available=1, condition="used", location="北京 东城", created_at=now,
        )
        session.add(listing)
        await session.flush()
        # A photo like the catalog's demo listings have (drawn by Pillow, stored through the image service).
        await ListingService(session, settings).add_image(listing.id, seller.id, demo_photo("Leica M3", 7))
