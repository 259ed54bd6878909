"""Account use cases: register, authenticate, API tokens, admin creation."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import timedelta

import msgspec
from litestar.stores.base import Store
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import events
from marketplace.accounts import rules
from marketplace.accounts.events import UserLoggedIn, UserRegistered
from marketplace.accounts.exceptions import AccountBanned, EmailTaken, InvalidCredentials, UsernameTaken
from marketplace.accounts.models import ApiToken, User
from marketplace.accounts.passwords import hash_password, needs_rehash, verify_password
from marketplace.db import after_commit, utcnow
from marketplace.errors import NotFound
from marketplace.identity import CurrentUser as CurrentUser


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenCache:
    """Bearer token → :class:`CurrentUser`, kept briefly in the shared store so an API request does not open a
    database session just to learn who is asking (the token lookup was a fifth of a bid's cost).

    Only used with a shared store (production mode, Redis): every process sees the same entries, so the one
    thing that changes who a token stands for — an admin banning, unbanning or (de)promoting the user — can
    invalidate them for all processes at once (:meth:`forget_user`). Refused tokens are never cached.
    """

    def __init__(self, store: Store, ttl: int = 30) -> None:
        self.store = store
        self.ttl = ttl

    @staticmethod
    def _key(token_hash: str) -> str:
        return f"auth:{token_hash}"

    async def get(self, token: str) -> CurrentUser | None:
        raw = await self.store.get(self._key(_token_hash(token)))
        return None if raw is None else msgspec.json.decode(raw, type=CurrentUser)

    async def put(self, token: str, user: CurrentUser) -> None:
        await self.store.set(self._key(_token_hash(token)), msgspec.json.encode(user), expires_in=self.ttl)

    async def forget_hash(self, session: AsyncSession, token_hash: str) -> None:
        key = self._key(token_hash)
        await self.store.delete(key)

        async def forget() -> None:
            await self.store.delete(key)

        after_commit(session, forget)

    async def forget_user(self, session: AsyncSession, user_id: int) -> None:
        """Drop the user's cached tokens now and again once the change commits: a request that read the old
        row just before the commit may have re-cached it in between."""
        hashes = (await session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user_id))).all()
        keys = [self._key(h) for h in hashes]

        async def forget() -> None:
            for key in keys:
                await self.store.delete(key)

        await forget()
        after_commit(session, forget)


class AccountService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def register(self, username: str, email: str, password: str, *, is_admin: bool = False) -> User:
        """Create a user with an empty wallet. Usernames are unique after NFKC + casefold (``username_key``),
        e-mail addresses case-insensitively. Reserved names only for administrators (``create_admin``)."""
        username = rules.normalize_username(username, allow_reserved=is_admin)
        key = rules.username_key(username)
        email = rules.normalize_email(email)
        rules.check_password(password)
        if await self.session.scalar(select(User.id).where(User.username_key == key)):
            raise UsernameTaken()
        if await self.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
            raise EmailTaken()  # the same 409 and words as a taken username (accounts/exceptions.py)
        password_hash = await asyncio.to_thread(hash_password, password)
        user = User(username=username, username_key=key, email=email, password_hash=password_hash,
                    is_admin=is_admin)
        try:
            # A savepoint, so a concurrent registration of the same name fails this one cleanly with 409.
            async with self.session.begin_nested():
                self.session.add(user)
                await self.session.flush()
        except IntegrityError as exc:
            raise UsernameTaken() from exc
        await events.emit(self.session, UserRegistered(user_id=user.id))
        return user

    async def authenticate(self, username: str, password: str) -> User:
        user = await self.session.scalar(select(User).where(User.username_key == rules.username_key(username)))
        ok = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
        if user is None or not ok:
            raise InvalidCredentials()
        if user.is_banned:  # docs/rules.md §19.8: the refusal says why
            if user.ban_reason:
                raise AccountBanned("This account is suspended: %(reason)s", reason=user.ban_reason)
            raise AccountBanned()
        if needs_rehash(user.password_hash):
            user.password_hash = await asyncio.to_thread(hash_password, password)
        await events.emit(self.session, UserLoggedIn(user_id=user.id, at=utcnow()))
        return user

    async def issue_token(self, user: User, *, valid_days: int = 0) -> str:
        """A new bearer token; it expires after ``valid_days`` (0 = never)."""
        token = secrets.token_urlsafe(32)
        expires_at = utcnow() + timedelta(days=valid_days) if valid_days > 0 else None
        self.session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), expires_at=expires_at))
        await self.session.flush()
        return token

    async def user_for_token(self, token: str) -> User | None:
        user: User | None = await self.session.scalar(
            select(User)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == _token_hash(token), User.is_banned.is_(False),
                   or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > utcnow()))
        )
        return user

    async def tokens(self, user_id: int) -> list[ApiToken]:
        """The user's tokens, newest first (expired ones included, so they can be cleaned up)."""
        rows = await self.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc()))
        return list(rows)

    async def revoke_token(self, user_id: int, *, token: str | None = None, token_id: int | None = None,
                           cache: TokenCache | None = None) -> bool:
        """Delete one of the user's tokens (by its value or its id); False when there is no such token."""
        where = [ApiToken.user_id == user_id]
        if token is not None:
            where.append(ApiToken.token_hash == _token_hash(token))
        elif token_id is not None:
            where.append(ApiToken.id == token_id)
        else:
            return False
        row = await self.session.scalar(select(ApiToken).where(*where))
        if row is None:
            return False
        token_hash = row.token_hash
        await self.session.delete(row)
        await self.session.flush()
        if cache is not None:  # every process stops accepting it now, and again after the commit
            await cache.forget_hash(self.session, token_hash)
        return True

    async def set_language(self, user_id: int, language: str | None) -> None:
        """The user's interface language (``zh_CN``, ``en``; None: follow the cookie and the browser)."""
        user = await self.get(user_id)
        user.language = language
        await self.session.flush()

    async def active_user(self, user_id: int) -> User | None:
        user: User | None = await self.session.scalar(
            select(User).where(User.id == user_id, User.is_banned.is_(False)))
        return user

    async def get(self, user_id: int) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            raise NotFound("User not found.")
        return user

    async def set_time_zone(self, user_id: int, time_zone: str) -> User:
        """The zone the user's pages show times in (an IANA name: ``rules.check_time_zone``)."""
        user = await self.get(user_id)
        user.time_zone = rules.check_time_zone(time_zone)
        await self.session.flush()
        return user

    async def by_username(self, username: str) -> User:
        user = await self.session.scalar(select(User).where(User.username_key == rules.username_key(username)))
        if user is None:
            raise NotFound("User not found.")
        return user

    async def create_admin(self, username: str, email: str, password: str) -> User:
        existing = await self.session.scalar(select(User).where(User.username_key == rules.username_key(username)))
        if existing is not None:
            existing.is_admin = True
            existing.password_hash = await asyncio.to_thread(hash_password, rules.check_password(password))
            return existing
        return await self.register(username, email, password, is_admin=True)

    async def touch_token(self, token: str) -> None:
        row = await self.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
        if row is not None:
            row.last_used_at = utcnow()
