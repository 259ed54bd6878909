"""The accounts side of authentication: the :class:`web.auth.UserLookup` the composition root gives the
middleware (a session's user id or a bearer token → :class:`CurrentUser`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.services import AccountService, TokenCache
from marketplace.identity import CurrentUser


class AccountLookup:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], token_cache: TokenCache | None) -> None:
        self.sessions = sessions
        # Bearer tokens are cached only where every process shares the store (Redis): a ban must reach them all.
        self.token_cache = token_cache

    async def by_session(self, user_id: int) -> CurrentUser | None:
        async with self.sessions() as db:
            row = await AccountService(db).active_user(user_id)
            return CurrentUser.of(row) if row else None

    async def by_token(self, token: str) -> CurrentUser | None:
        cache = self.token_cache
        if cache is not None and (cached := await cache.get(token)) is not None:
            return cached
        async with self.sessions() as db:
            row = await AccountService(db).user_for_token(token)
            user = CurrentUser.of(row) if row else None
        if cache is not None and user is not None:
            await cache.put(token, user)
        return user
