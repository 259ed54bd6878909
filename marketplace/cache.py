"""The shared cache (docs/rules.md §18, docs/architecture.md): version keys, stats, purge, and write tracking.

A write bumps the version of what it touched (``await cache.bump("categories")``); cache keys include the
current versions, so a stale entry is never read again and simply expires. A version is a random token rather
than a counter because Litestar's store interface has no atomic increment, and uniqueness is all we need.

Version names in use: ``categories``, ``shops``/``shop:<id>``, ``listings`` (any listing changed: cards, blocks,
browse pages) and ``listing:<id>``, ``blocks``, ``templates``.

Write tracking: a SQLAlchemy ``after_flush`` listener notes every row of a tracked class (:func:`track_writes`:
the composition root registers listings, listing images, categories and shops) a session changes. Inside an HTTP
request (:class:`WriteTrackingMiddleware`) the names are bumped once the request's
transaction has committed and **before the response body leaves**, so the writer's next read is fresh in every
process; outside a request (jobs, CLI) they are bumped right after the commit.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import secrets
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from litestar.enums import ScopeType
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.asyncio import Redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.db import after_commit

T = TypeVar("T")
log = logging.getLogger(__name__)


def _stamp(versions: list[str]) -> bytes:
    return ("|".join(versions) + "\n").encode()


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


class Cache:
    def __init__(self, store: Store, default_ttl: int = 300) -> None:
        self.store = store
        self.default_ttl = default_ttl
        # Per process: GET /admin/cache reports this process's counters beside the shared key count.
        self.hits = 0
        self.misses = 0

    async def version(self, name: str) -> str:
        raw = await self.store.get(f"v:{name}")
        if raw is None:
            token = secrets.token_hex(8)
            await self.store.set(f"v:{name}", token)
            return token
        return _text(raw)

    async def versions(self, names: tuple[str, ...]) -> list[str]:
        """The current versions of ``names``, read together: one ``MGET`` on Redis instead of a round trip per name
        (a cached page depends on six; docs/performance.md, P5). A name never bumped gets its first version."""
        if not names:
            return []
        raws = await self.get_many([f"v:{name}" for name in names])
        return [await self.version(name) if raw is None else _text(raw) for name, raw in zip(names, raws, strict=True)]

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
        full_key = ":".join([key, *await self.versions(depends_on)])
        raw = await self.store.get(full_key)
        if raw is not None:
            self.hits += 1
            return msgspec.json.decode(raw, type=type_)  # type: ignore[no-any-return]
        self.misses += 1
        value = await factory()
        await self.store.set(full_key, msgspec.json.encode(value), expires_in=ttl or self.default_ttl)
        return value

    async def get_many(self, keys: list[str]) -> list[bytes | None]:
        """Several raw values in one read (``MGET`` on Redis), ``None`` where missing."""
        store = self.store
        if isinstance(store, RedisStore):
            return list(await store._redis.mget([store._make_key(key) for key in keys]))
        if isinstance(store, MemoryStore):  # a dict read in the loop's thread: no need for the store's lock
            found = [store._store.get(key) for key in keys]
            return [None if obj is None or obj.expired else obj.data for obj in found]
        return [await store.get(key) for key in keys]

    async def get_stamped(self, key: str, depends_on: tuple[str, ...], *, count_miss: bool = True) -> bytes | None:
        """A value stored by :meth:`set_stamped` if none of ``depends_on`` was bumped since: the value and the
        current versions come in **one** read (one round trip to Redis instead of one for the versions and one
        for the value: docs/performance.md, P5). Counts a hit, and a miss unless the caller will look again."""
        raws = await self.get_many([key, *(f"v:{name}" for name in depends_on)])
        value, versions = raws[0], raws[1:]
        if value is not None and all(v is not None for v in versions):
            stamp = _stamp([_text(v) for v in versions])
            if value.startswith(stamp):
                self.hits += 1
                return value[len(stamp):]
        self.misses += count_miss
        return None

    async def set_stamped(self, key: str, versions: list[str], value: bytes, ttl: int | None = None) -> None:
        """Store ``value`` under ``key`` with the versions it was made from (read *before* making it, by
        :meth:`versions`): a bump in between makes the next :meth:`get_stamped` miss, never serve it stale."""
        await self.store.set(key, _stamp(versions) + value, expires_in=ttl or self.default_ttl)

    async def key_count(self) -> int:
        store = self.store
        if isinstance(store, RedisStore):
            pattern = f"{store.namespace}:*" if store.namespace else "*"
            return sum([1 async for _ in store._redis.scan_iter(match=pattern, count=500)])
        if isinstance(store, MemoryStore):
            return len(store._store)
        return 0

    async def stats(self) -> dict[str, Any]:
        total = self.hits + self.misses
        return {"hits": self.hits, "misses": self.misses,
                "hit_ratio": round(self.hits / total, 4) if total else 0.0, "keys": await self.key_count()}

    async def purge(self) -> None:
        """Drop every cached entry and version key (every version then starts anew: nothing stale is read)."""
        await self.store.delete_all()


# --- write tracking ----------------------------------------------------------------------------------------------

class _Pending(set[str]):
    """The names a request's writes touched; ``closed`` once the request is over (a job task started by the
    request inherits this context object, and its later writes must fall back to the after-commit bump)."""

    closed = False


_pending: contextvars.ContextVar[_Pending | None] = contextvars.ContextVar("site_cache_pending", default=None)
_process_cache: tuple[Cache, asyncio.AbstractEventLoop] | None = None


def set_process_cache(cache: Cache | None) -> None:
    """The cache that jobs and the CLI bump after their commits (the web app's requests use the middleware).

    Call it from the event loop that owns the cache's store (the app's startup hook, the worker's startup): a
    memory store's lock belongs to one loop, so writes on another loop (a test's own sessions) do not bump.
    """
    global _process_cache
    _process_cache = (cache, asyncio.get_running_loop()) if cache is not None else None


NamesOf = Callable[[Any], tuple[str, ...]]
_tracked: dict[type, NamesOf] = {}


def track_writes(model: type, names_of: NamesOf) -> None:
    """Bump ``names_of(row)`` whenever a row of ``model`` is inserted, updated or deleted (idempotent)."""
    _tracked[model] = names_of


def touched_names(objects: Any) -> set[str]:
    names: set[str] = set()
    for obj in objects:
        names_of = _tracked.get(type(obj))
        if names_of is not None:
            names.update(names_of(obj))
    return names


@event.listens_for(Session, "after_flush")
def _note_writes(session: Session, _flush_context: Any) -> None:
    names = touched_names([*session.new, *session.dirty, *session.deleted])
    if not names:
        return
    pending = _pending.get()
    if pending is not None and not pending.closed:
        pending.update(names)
        return
    if _process_cache is None:
        return
    cache, loop = _process_cache
    try:
        if asyncio.get_running_loop() is not loop:
            return
    except RuntimeError:
        return

    frozen = tuple(sorted(names))
    after_commit(session, lambda: cache.bump(*frozen))


class WriteTrackingMiddleware:
    """Bumps the versions a request's writes touched after its commit and before its response body is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        pending = _Pending()
        token = _pending.set(pending)
        cache: Cache = scope["litestar_app"].state.cache

        async def tracking_send(message: Message) -> None:
            await send(message)  # the outer before-send hook commits the request's transaction here
            if message["type"] == "http.response.start" and pending:
                names = tuple(sorted(pending))
                pending.clear()
                try:
                    await cache.bump(*names)
                except Exception:  # the data is committed; an unreachable cache must not fail the request
                    log.exception("cache bump failed for %s", names)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            pending.closed = True
            _pending.reset(token)


# --- command line ------------------------------------------------------------------------------------------------


async def _cli(redis_url: str, action: str) -> dict[str, Any] | None:
    redis = Redis.from_url(redis_url)
    try:
        cache = Cache(RedisStore(redis, namespace="cache"))
        if action == "purge":
            await cache.purge()
            return None
        return await cache.stats()
    finally:
        await redis.aclose()


def run_cache_cli(redis_url: str | None, action: str) -> int:
    """``marketplace cache stats|purge`` on the shared Redis cache (embedded mode keeps it in the server)."""
    if not redis_url:
        print("The cache of embedded mode lives in the server process: use /admin/cache there "
              "(or set MARKETPLACE_REDIS_URL).", file=sys.stderr)
        return 2
    result = asyncio.run(_cli(redis_url, action))
    if action == "purge":
        print("Cache purged.")
    else:
        assert result is not None
        result["note"] = "hits and misses are counted per server process; see GET /api/v1/admin/cache"
        print(json.dumps(result, indent=2))
    return 0
