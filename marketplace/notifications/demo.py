"""Demo data: notifications waiting for bob and carol, bob's watchlist and saved search (README "What to try")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.i18n import N_, Text
from marketplace.notifications import rules
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
        await notify(session, bob.id, "outbid", Text(N_("You were outbid on %(title)s"), {"title": first.title}),
                     body=Text(N_("The current price is %(price)s coins. Bid again to take back the lead."),
                               {"price": first.current_price}),
                     url=f"/listings/{first.id}")
        await notify(session, bob.id, "ending_soon", Text(N_("Ending soon: %(title)s"), {"title": first.title}),
                     body=Text(N_("An auction on your watchlist ends soon."), {}), url=f"/listings/{first.id}",
                     dedupe_key=f"ending_soon:{first.id}")
    await notify(session, bob.id, "topup_paid", Text(N_("Top-up credited: %(coins)s coins"), {"coins": 5000}),
                 url="/wallet")
    query = rules.SearchQuery(q="瓷器", max_price=5000)
    search = rules.describe_search(query)
    await notify(session, carol.id, "saved_search", rules.saved_search_title(query, 2),
                 body=Text(N_("New listings match your saved search %(search)s."), {"search": search}),
                 url="/search?q=%E7%93%B7%E5%99%A8&max_price=5000")
    if fixed:
        await notify(session, carol.id, "feedback_received",
                     Text(N_("New positive feedback: “%(text)s”"), {"text": "Fast shipping, thanks!"}),
                     url="/users/carol")
