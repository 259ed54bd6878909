"""Demo data for shops: carol runs "Carol's Vintage 卡罗古董店" with a couple of free listings.

Listed in :data:`marketplace.demo.DOMAIN_SEEDERS`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.categories.models import Category
from marketplace.db import utcnow
from marketplace.listings.models import Listing
from marketplace.settings import Settings
from marketplace.shops.services import ShopService
from marketplace.wallet import ledger

CAROL_COINS = 1000
SHOP_NAME = "Carol's Vintage 卡罗古董店"
SHOP_DESCRIPTION = ("Porcelain, scrolls and curiosities from old Shanghai homes. 老上海人家的瓷器、字画与小古玩。\n"
                    "Every piece photographed as it is; ask me anything before you bid.")
# (category slug, title, fixed price or None for an auction, start price)
SHOP_LISTINGS = (
    ("porcelain", "Blue-and-white tea bowl 青花茶碗", 380, None),
    ("calligraphy", "Hanging scroll, plum blossoms 梅花立轴", None, 120),
)


async def seed(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    carol = users.get("carol")
    if carol is None:
        return
    now = utcnow()
    # Fund her the way an admin adjustment does, so the ledger stays balanced and auditable.
    await ledger.post(session, kind="adjustment",
                      legs=[ledger.Leg(ledger.platform("adjustments"), -CAROL_COINS),
                            ledger.Leg(ledger.available(carol.id), CAROL_COINS)],
                      ref_type="user", ref_id=carol.id, memo="demo coins")
    shop = await ShopService(session, settings).open_shop(carol.id, name=SHOP_NAME, slug="carols-vintage",
                                                          plan="basic", description=SHOP_DESCRIPTION, now=now)
    for slug, title, price, start in SHOP_LISTINGS:
        category = await session.scalar(select(Category).where(Category.slug == slug))
        if category is None:
            continue
        # Within the shop's free quota: no insertion fee, flagged free_listing like the sell flow does.
        listing = Listing(seller_id=carol.id, shop_id=shop.id, category_id=category.id, title=title,
                          description=f"{title}. From {SHOP_NAME}.", status="active", free_listing=True,
                          condition="used", location="上海 黄浦", created_at=now)
        if price is not None:
            listing.mode, listing.price, listing.current_price = "fixed", price, price
            listing.quantity = listing.quantity_available = 1
        else:
            assert start is not None
            listing.mode, listing.start_price, listing.current_price = "auction", start, start
            listing.duration_seconds = 3 * 24 * 3600
            listing.ends_at = now + timedelta(seconds=listing.duration_seconds)
            listing.quantity = listing.quantity_available = 1
        session.add(listing)
    await session.flush()
