"""Login throttling (RULES.md §11): N failed attempts per window per username and per IP → 429."""

from __future__ import annotations

from marketplace.errors import RateLimited
from marketplace.web.ratelimit import RateLimiter


class LoginThrottle:
    def __init__(self, limiter: RateLimiter, limit: int, window_seconds: int) -> None:
        self.limiter = limiter
        self.limit = limit
        self.window = window_seconds

    @staticmethod
    def _keys(username: str, ip: str) -> tuple[str, str]:
        return f"login:user:{username.strip().lower()}", f"login:ip:{ip}"

    async def check(self, username: str, ip: str) -> None:
        """Refuse before checking the password once either counter is full (no guessing while throttled)."""
        for key in self._keys(username, ip):
            if await self.limiter.count(key) >= self.limit:
                raise RateLimited("Too many failed logins; try again in a minute.",
                                  retry_after=await self.limiter.retry_after(key))

    async def failed(self, username: str, ip: str) -> None:
        for key in self._keys(username, ip):
            await self.limiter.hit(key, self.window)
