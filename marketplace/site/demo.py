"""Demo data of the site package: composed blocks beside the default home ones, and one open report."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.categories.models import Category
from marketplace.i18n import N_
from marketplace.listings.models import Listing
from marketplace.settings import Settings
from marketplace.site.models import Block, Report


async def seed(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    home_count = int(await session.scalar(select(func.count()).select_from(Block)
                                          .where(Block.slot == "home")) or 0)
    session.add(Block(title=N_("Bargains under 100"), slot="home", position=home_count, display="list",
                      item_limit=6, active=True, query={"max_price": 100, "sort": "price_asc"}))
    electronics = await session.scalar(select(Category).where(Category.slug == "electronics"))
    if electronics is not None:
        session.add(Block(title=N_("Live auctions in electronics"), slot=f"category:{electronics.id}",
                          position=0, display="carousel", item_limit=8, active=True,
                          query={"category_id": electronics.id, "mode": "auction", "sort": "ending_soon"}))
    session.add(Block(title=N_("Member day picks"), slot="member_day", position=0, display="grid",
                      item_limit=12, active=True, query={"featured": True, "sort": "price_desc"}))
    reporter = users.get("bob")
    listing = await session.scalar(select(Listing).where(Listing.status == "active",
                                                         Listing.seller_id != (reporter.id if reporter else 0))
                                   .order_by(Listing.id))
    if reporter is not None and listing is not None:
        session.add(Report(listing_id=listing.id, reporter_id=reporter.id, reason="counterfeit",
                           text="The logo looks fake. 商标看起来是假的。", status="open", note=""))
    await session.flush()
