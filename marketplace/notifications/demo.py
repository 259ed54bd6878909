"""Demo data: notifications waiting for bob and carol, bob's watchlist and saved search (README "What to try")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.notifications.listings_port import Listing
from marketplace.notifications.models import WatchlistItem
from marketplace.notifications.services import SavedSearchService, notify
from marketplace.settings import Settings


async def seed(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    bob, carol = users.get("bob"), users.get("carol")
    if bob is None or carol is None:
        return
    auctions = list(await session.scalars(
        select(Listing).where(Listing.mode == "auction", Listing.status == "active").order_by(Listing.ends_at)
        .limit(3)))
    fixed = list(await session.scalars(
        select(Listing).where(Listing.mode == "fixed", Listing.status == "active", Listing.seller_id != bob.id)
        .order_by(Listing.id).limit(1)))
    for listing in [*auctions, *fixed]:
        if listing.seller_id != bob.id:
            session.add(WatchlistItem(user_id=bob.id, listing_id=listing.id))
    await session.flush()
    await SavedSearchService(session).create(bob.id, {"q": "camera"})
    await SavedSearchService(session).create(carol.id, {"q": "瓷器", "max_price": 5000})

    if auctions:
        first = auctions[0]
        await notify(session, bob.id, "outbid", f"You were outbid on {first.title}",
                     body=f"The current price is {first.current_price} coins. Bid again to take back the lead.",
                     url=f"/listings/{first.id}")
        await notify(session, bob.id, "ending_soon", f"Ending soon: {first.title}",
                     body="An auction on your watchlist ends soon.", url=f"/listings/{first.id}",
                     dedupe_key=f"ending_soon:{first.id}")
    await notify(session, bob.id, "topup_paid", "Top-up credited: 5000 coins", url="/wallet")
    await notify(session, carol.id, "saved_search", "2 new listings for your search “瓷器”, ≤ 5000 coins",
                 body="New listings match your saved search.", url="/search?q=%E7%93%B7%E5%99%A8&max_price=5000")
    if fixed:
        await notify(session, carol.id, "feedback_received", "New positive feedback: “Fast shipping, thanks!”",
                     url="/users/carol")
