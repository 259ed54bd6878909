"""Fixed-window counters for login failures and bids (docs/rules.md §11).

Redis in production, so every server process counts together; a dict in embedded mode (one process).
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class RateLimiter(Protocol):
    async def hit(self, key: str, window_seconds: int) -> int:
        """Count one event; the number of events in the current window, this one included."""

    async def count(self, key: str) -> int: ...

    async def retry_after(self, key: str) -> int: ...

    async def reset(self, key: str) -> None: ...

    async def undo(self, key: str) -> None:
        """Take one event back (never below zero, never reviving an expired window)."""


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    def _live(self, key: str) -> tuple[float, int] | None:
        item = self._windows.get(key)
        if item is None or item[0] <= time.monotonic():
            self._windows.pop(key, None)
            return None
        return item

    async def hit(self, key: str, window_seconds: int) -> int:
        item = self._live(key)
        expires, n = item if item else (time.monotonic() + window_seconds, 0)
        self._windows[key] = (expires, n + 1)
        if len(self._windows) > 100_000:  # bound memory against key floods
            for k in [k for k, (e, _) in self._windows.items() if e <= time.monotonic()]:
                del self._windows[k]
        return n + 1

    async def count(self, key: str) -> int:
        item = self._live(key)
        return item[1] if item else 0

    async def retry_after(self, key: str) -> int:
        item = self._live(key)
        return max(1, int(item[0] - time.monotonic()) + 1) if item else 1

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    async def undo(self, key: str) -> None:
        item = self._live(key)
        if item is not None and item[1] > 0:
            self._windows[key] = (item[0], item[1] - 1)


# DECR only a live counter: a plain DECR on an expired key would create -1 without a TTL (a window forever open).
_UNDO = """
if redis.call('exists', KEYS[1]) == 1 and tonumber(redis.call('get', KEYS[1])) > 0 then
  return redis.call('decr', KEYS[1])
end
return 0
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str = "ratelimit:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._undo = redis.register_script(_UNDO)

    async def hit(self, key: str, window_seconds: int) -> int:
        k = self.prefix + key
        # INCR and EXPIRE NX in one round trip: the window starts at the first event and cannot be extended.
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(k)
            pipe.expire(k, window_seconds, nx=True)
            n, _ = await pipe.execute()
        return int(n)

    async def count(self, key: str) -> int:
        value = await self.redis.get(self.prefix + key)
        return int(value or 0)

    async def retry_after(self, key: str) -> int:
        ttl = await self.redis.ttl(self.prefix + key)
        return max(1, int(ttl))

    async def reset(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def undo(self, key: str) -> None:
        await self._undo(keys=[self.prefix + key])
