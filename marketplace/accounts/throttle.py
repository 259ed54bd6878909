"""Login throttling (docs/rules.md §11): failed attempts per window per username and per IP.

Increment, then check: every attempt is counted (one atomic INCR) *before* the password is checked, and a
successful log-in takes its count back. Forty parallel guesses therefore get forty distinct counts and only the
first ``user_limit`` are checked; reading the counter first and incrementing after a failure let them all through.

Per username: over the limit → 429 with ``Retry-After``. Per IP (a separate, higher threshold): an address is
never locked out, since many people can share one (an office, a carrier NAT) and one attacker among them would
lock out the rest; each attempt beyond the threshold is only delayed, a little more each time, up to a maximum.
"""

from __future__ import annotations

import asyncio

from marketplace.errors import RateLimited
from marketplace.web.ratelimit import RateLimiter


class LoginThrottle:
    def __init__(self, limiter: RateLimiter, limit: int, window_seconds: int, *, ip_limit: int | None = None,
                 max_delay_seconds: float = 5.0) -> None:
        self.limiter = limiter
        self.limit = limit
        self.window = window_seconds
        self.ip_limit = limit if ip_limit is None else ip_limit
        self.max_delay = max_delay_seconds

    @staticmethod
    def _keys(username: str, ip: str) -> tuple[str, str]:
        return f"login:user:{username.strip().lower()}", f"login:ip:{ip}"

    def delay_for(self, ip_attempts: int) -> float:
        """Seconds to wait before checking the ``ip_attempts``-th attempt of an address in the window."""
        over = ip_attempts - self.ip_limit
        return 0.0 if over <= 0 else min(self.max_delay, 0.25 * over)

    async def attempt(self, username: str, ip: str) -> None:
        """Count this attempt; refuse it (429) once the username's count is over the limit, slow it down once the
        address's is. Call :meth:`succeeded` after a correct password."""
        user_key, ip_key = self._keys(username, ip)
        if await self.limiter.hit(user_key, self.window) > self.limit:
            raise RateLimited("Too many failed logins; try again in a minute.",
                              retry_after=await self.limiter.retry_after(user_key))
        delay = self.delay_for(await self.limiter.hit(ip_key, self.window))
        if delay:
            await asyncio.sleep(delay)

    async def succeeded(self, username: str, ip: str) -> None:
        """A correct password: this attempt was not a failure, take it back from both counts."""
        for key in self._keys(username, ip):
            await self.limiter.undo(key)
