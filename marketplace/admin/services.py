"""Moderation use cases behind the admin pages: the dashboard figures and user bans / roles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.accounts.services import TokenCache
from marketplace.admin.exceptions import CannotChangeSelf
from marketplace.categories.models import Category
from marketplace.errors import NotFound
from marketplace.listings.models import Listing


@dataclass(frozen=True, slots=True)
class DashboardCounts:
    users: int
    banned_users: int
    listings: int
    active_listings: int
    categories: int


class AdminService:
    def __init__(self, session: AsyncSession, token_cache: TokenCache | None = None) -> None:
        self.session = session
        self.token_cache = token_cache

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

    async def set_banned(self, actor_id: int, user_id: int, banned: bool) -> User:
        """Ban or unban. A banned user cannot log in, and their sessions and API tokens stop working at once
        (authentication checks ``is_banned`` on every request; the short-lived bearer-token cache is invalidated
        here), so nothing has to be revoked."""
        user = await self._locked(user_id)
        if user.id == actor_id and banned:
            raise CannotChangeSelf()
        user.is_banned = banned
        await self.session.flush()
        await self._forget_tokens(user.id)
        return user

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
