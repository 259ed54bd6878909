"""Moderation use cases behind the admin pages: the dashboard figures and user bans / roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.accounts.services import TokenCache
from marketplace.admin.exceptions import CannotChangeSelf
from marketplace.auctions.services import BidService
from marketplace.categories.models import Category
from marketplace.db import utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.jobs import Publisher
from marketplace.listings.models import Listing
from marketplace.listings.services import ListingService
from marketplace.orders.services import OrderService
from marketplace.settings import Settings
from marketplace.shops.models import Shop


@dataclass(frozen=True, slots=True)
class DashboardCounts:
    users: int
    banned_users: int
    listings: int
    active_listings: int
    categories: int


BAN_REASON_MAX = 500
DEFAULT_BAN_REASON = "Banned by an administrator."


class AdminService:
    def __init__(self, session: AsyncSession, token_cache: TokenCache | None = None,
                 publisher: Publisher | None = None, settings: Settings | None = None) -> None:
        self.session = session
        self.settings = settings or Settings()
        self.token_cache = token_cache
        self.publisher = publisher

    async def counts(self) -> DashboardCounts:
        async def count(stmt: Select[tuple[int]]) -> int:
            return int(await self.session.scalar(stmt) or 0)

        return DashboardCounts(
            users=await count(select(func.count()).select_from(User)),
            banned_users=await count(select(func.count()).select_from(User).where(User.is_banned.is_(True))),
            listings=await count(select(func.count()).select_from(Listing)),
            active_listings=await count(select(func.count()).select_from(Listing).where(Listing.status == "active")),
            categories=await count(select(func.count()).select_from(Category)),
        )

    async def users(self, q: str = "", page: int = 1, per_page: int = 50) -> tuple[list[User], int]:
        """Users newest first, optionally filtered by a username or email fragment."""
        stmt = select(User)
        if q.strip():
            pattern = f"%{q.strip().lower()}%"
            stmt = stmt.where(or_(func.lower(User.username).like(pattern), func.lower(User.email).like(pattern)))
        total = int(await self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = await self.session.scalars(stmt.order_by(User.id.desc()).offset((page - 1) * per_page).limit(per_page))
        return list(rows), total

    async def set_banned(self, actor_id: int, user_id: int, banned: bool, reason: str = "",
                         now: datetime | None = None) -> User:
        """Ban or unban. A banned user cannot log in (the refusal shows the reason), and their sessions and API
        tokens stop working at once (authentication checks ``is_banned`` on every request; the short-lived
        bearer-token cache is invalidated here), so nothing has to be revoked.

        docs/rules.md §19.8, all in the caller's one transaction: a ban ends the user's active listings (an
        auction's leader gets their hold back), cancels their paid, unshipped sales with a full refund to each
        buyer, and suspends their shop with the reason. An unban lifts the shop's suspension if its period is
        still paid; ended listings stay ended (the seller relists)."""
        now = now or utcnow()
        clean = " ".join((reason or "").split())
        if len(clean) > BAN_REASON_MAX:
            raise InvalidInput("The reason is limited to %(ban_reason_max)s characters.", ban_reason_max=BAN_REASON_MAX)
        user = await self._locked(user_id)
        if user.id == actor_id and banned:
            raise CannotChangeSelf()
        was_banned = user.is_banned
        user.is_banned = banned
        user.ban_reason = (clean or DEFAULT_BAN_REASON) if banned else None
        await self.session.flush()
        if banned and not was_banned:
            await self._wind_down_seller(actor_id, user.id, user.ban_reason or DEFAULT_BAN_REASON, now)
        elif not banned and was_banned:
            await self._restore_shop(user.id, now)
        await self._forget_tokens(user.id)
        return user

    async def _wind_down_seller(self, actor_id: int, seller_id: int, reason: str, now: datetime) -> None:
        listing_ids = list(await self.session.scalars(
            select(Listing.id).where(Listing.seller_id == seller_id, Listing.status == "active").order_by(Listing.id)))
        bids = BidService(self.session, self.settings, publisher=self.publisher)
        listings = ListingService(self.session, self.settings, publisher=self.publisher)
        for listing_id in listing_ids:
            mode = await self.session.scalar(select(Listing.mode).where(Listing.id == listing_id))
            if mode == "auction":
                await bids.end_without_sale(listing_id, now, status="ended")
            else:
                await listings.end_for_ban(listing_id, now)
        orders = OrderService(self.session, self.settings, publisher=self.publisher)
        for order_id in await orders.unshipped_ids_of_seller(seller_id):
            await orders.cancel_for_banned_seller(order_id, actor_id, f"Seller banned: {reason}", now)
        shop = await self.session.scalar(select(Shop).where(Shop.owner_id == seller_id).with_for_update())
        if shop is not None:
            shop.status = "suspended"
            shop.suspended_reason = reason
            await self.session.flush()

    async def _restore_shop(self, owner_id: int, now: datetime) -> None:
        shop = await self.session.scalar(select(Shop).where(Shop.owner_id == owner_id).with_for_update())
        if shop is not None and shop.suspended_reason is not None:
            shop.suspended_reason = None
            if shop.paid_until > now:
                shop.status = "active"
            await self.session.flush()

    async def set_admin(self, actor_id: int, user_id: int, is_admin: bool) -> User:
        user = await self._locked(user_id)
        if user.id == actor_id and not is_admin:
            raise CannotChangeSelf()
        user.is_admin = is_admin
        await self.session.flush()
        await self._forget_tokens(user.id)
        return user

    async def get_user(self, user_id: int) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            raise NotFound("User not found.")
        return user

    async def _forget_tokens(self, user_id: int) -> None:
        # Cached bearer tokens carry is_admin and stand for a non-banned user: both just changed.
        if self.token_cache is not None:
            await self.token_cache.forget_user(self.session, user_id)

    async def _locked(self, user_id: int) -> User:
        user = await self.session.scalar(
            select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True))
        if user is None:
            raise NotFound("User not found.")
        return user
