"""Issue 11 M3 and L5: a login limit that holds under concurrency, per username and per IP, trusted proxies.

The in-process client below serialises requests, so the 40-in-parallel cases here guard the limiter's counting
on both backends; the race itself (which the old read-then-increment code lost) is shown over real HTTP in
tests/system/test_login_race.py.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from marketplace.accounts.throttle import LoginThrottle
from marketplace.app import create_app
from marketplace.settings import Settings
from marketplace.web.clientip import client_address
from marketplace.web.ratelimit import MemoryRateLimiter
from tests.factories import PASSWORD, api_user


async def _parallel_wrong_passwords(client: Any, username: str, n: int) -> list[Any]:
    return list(await asyncio.gather(*(
        client.post("/api/v1/auth/token", json={"username": username, "password": f"wrong-{i}"}) for i in range(n))))


async def test_40_parallel_wrong_passwords_on_redis(settings: Settings, redis_url: str) -> None:
    await _forty_in_parallel(settings.with_(redis_url=redis_url, embedded_jobs=True))


async def test_40_parallel_wrong_passwords_in_embedded_mode(settings: Settings) -> None:
    await _forty_in_parallel(settings)


async def _forty_in_parallel(settings: Settings) -> None:
    """At most the limit are checked; the rest are refused with 429 before their password is looked at."""
    async with AsyncTestClient(app=create_app(settings)) as client:
        user = await api_user(client)
        responses = await _parallel_wrong_passwords(client, user["username"], 40)
        codes = sorted(r.status_code for r in responses)
        assert codes.count(401) == settings.login_rate_limit
        assert codes.count(429) == 40 - settings.login_rate_limit
        assert all(int(r.headers["retry-after"]) >= 1 for r in responses if r.status_code == 429)
        # Still limited for the right password too, until the window ends.
        r = await client.post("/api/v1/auth/token", json={"username": user["username"], "password": PASSWORD})
        assert r.status_code == 429


async def test_successful_logins_do_not_count(client: Any) -> None:
    user = await api_user(client)
    for _ in range(15):
        r = await client.post("/api/v1/auth/token", json={"username": user["username"], "password": PASSWORD})
        assert r.status_code == 200


async def test_one_guesser_does_not_lock_out_others_behind_the_same_ip(client: Any) -> None:
    victim, other = await api_user(client), await api_user(client)
    for _ in range(10):
        r = await client.post("/api/v1/auth/token", json={"username": victim["username"], "password": "nope-nope"})
        assert r.status_code == 401
    # The guessed account is limited, a different user from the same address logs in.
    r = await client.post("/api/v1/auth/token", json={"username": victim["username"], "password": PASSWORD})
    assert r.status_code == 429
    r = await client.post("/api/v1/auth/token", json={"username": other["username"], "password": PASSWORD})
    assert r.status_code == 200


async def test_many_failures_from_one_ip_are_slowed_not_locked() -> None:
    throttle = LoginThrottle(MemoryRateLimiter(), 10, 60, ip_limit=3, max_delay_seconds=0.5)
    for i in range(3):
        await throttle.attempt(f"user{i}", "203.0.113.9")
    started = time.monotonic()
    await throttle.attempt("user-x", "203.0.113.9")  # 4th from the address: delayed, not refused
    assert time.monotonic() - started >= 0.2
    assert throttle.delay_for(100) == 0.5
    assert throttle.delay_for(3) == 0.0


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    # Not trusted: the header is ignored, whatever it says.
    assert client_address("198.51.100.7", "1.2.3.4", "") == "198.51.100.7"
    assert client_address("198.51.100.7", "1.2.3.4", "10.0.0.0/8") == "198.51.100.7"
    # From our proxy: the right-most address that is not one of our proxies.
    assert client_address("10.0.0.2", "1.2.3.4", "10.0.0.0/8") == "1.2.3.4"
    assert client_address("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.5", "10.0.0.0/8, 127.0.0.1") == "1.2.3.4"
    assert client_address("10.0.0.2", "garbage", "10.0.0.0/8") == "10.0.0.2"


async def test_rotating_forwarded_for_does_not_reset_the_ip_count(settings: Settings) -> None:
    app = create_app(settings.with_(login_ip_rate_limit=2, login_ip_max_delay_seconds=1))
    async with AsyncTestClient(app=app) as client:
        for i in range(3):
            await client.post("/api/v1/auth/token", json={"username": f"nobody{i}", "password": "x" * 9},
                              headers={"X-Forwarded-For": f"203.0.113.{i}"})
        assert await app.state.rate_limiter.count("login:ip:testclient") == 3


def test_malformed_trusted_proxies_fail_at_start(settings: Settings) -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        create_app(settings.with_(trusted_proxies="10.0.0.0/8, not-an-ip"))
