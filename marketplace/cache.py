"""Version-keyed cache over a Litestar store (DESIGN.md §5).

A write bumps the version of what it touched (``await cache.bump("categories")``); cache keys include the
current versions, so a stale entry is never read again and simply expires. A version is a random token rather
than a counter because Litestar's store interface has no atomic increment, and uniqueness is all we need.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from litestar.stores.base import Store

T = TypeVar("T")


class Cache:
    def __init__(self, store: Store, default_ttl: int = 300) -> None:
        self.store = store
        self.default_ttl = default_ttl

    async def version(self, name: str) -> str:
        raw = await self.store.get(f"v:{name}")
        if raw is None:
            token = secrets.token_hex(8)
            await self.store.set(f"v:{name}", token)
            return token
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def bump(self, *names: str) -> None:
        for name in names:
            await self.store.set(f"v:{name}", secrets.token_hex(8))

    async def get_or_set(
        self,
        key: str,
        factory: Callable[[], Awaitable[T]],
        *,
        depends_on: tuple[str, ...] = (),
        ttl: int | None = None,
        type_: Any = Any,
    ) -> T:
        versions = [await self.version(name) for name in depends_on]
        full_key = ":".join([key, *versions])
        raw = await self.store.get(full_key)
        if raw is not None:
            return msgspec.json.decode(raw, type=type_)  # type: ignore[no-any-return]
        value = await factory()
        await self.store.set(full_key, msgspec.json.encode(value), expires_in=ttl or self.default_ttl)
        return value
