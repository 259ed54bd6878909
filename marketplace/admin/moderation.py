"""Listing moderation: admins list and remove listings.

Removing an active auction goes through the auctions service so the leader's hold is released in the same
transaction (no coins stay held for an auction that is gone); a fixed-price listing simply stops selling. Orders
already paid are not touched: they follow their own life (cancel/refund) in the orders domain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.auctions.services import BidService
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.jobs import Publisher
from marketplace.listings.models import Listing
from marketplace.listings.rules import STATUSES as STATUSES
from marketplace.listings.services import ListingService


class ListingModeration:
    def __init__(self, session: AsyncSession, publisher: Publisher | None = None) -> None:
        self.session = session
        self.publisher = publisher

    async def search(self, q: str, status: str, page: int, per_page: int = 50) -> tuple[list[tuple[Listing, str]],
                                                                                           int]:
        if status and status not in STATUSES:
            raise InvalidInput("Unknown status %(status)s.", status=f"{status!r}")
        stmt = select(Listing, User.username).join(User, User.id == Listing.seller_id)
        if q.strip():
            like = f"%{q.strip()}%"
            stmt = stmt.where(or_(Listing.title.ilike(like), User.username.ilike(like)))
        if status:
            stmt = stmt.where(Listing.status == status)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = (await self.session.execute(
            stmt.order_by(Listing.id.desc()).limit(per_page).offset((page - 1) * per_page))).all()
        return [(listing, username) for listing, username in rows], int(total or 0)

    async def remove(self, listing_id: int, now: datetime) -> Listing:
        """Take an active listing off the market (status ``removed``); refuses anything not active (409)."""
        listing = await self.session.scalar(select(Listing).where(Listing.id == listing_id).with_for_update())
        if listing is None:
            raise NotFound("Listing not found.")
        if listing.status != "active":
            raise Conflict("Only an active listing can be removed (this one is %(status)s).", status=listing.status)
        if listing.mode == "auction":
            return await BidService(self.session, publisher=self.publisher).end_without_sale(listing_id, now)
        return await ListingService(self.session, publisher=self.publisher).remove(listing_id, now)
