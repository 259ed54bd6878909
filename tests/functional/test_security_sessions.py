"""Issue 11 M5: anonymous page views store no server-side session; a session appears when one is needed."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from marketplace.app import create_app
from marketplace.settings import Settings
from tests.factories import api_user, html_login


async def _session_keys(redis_url: str) -> int:
    client = Redis.from_url(redis_url)
    try:
        return len([k async for k in client.scan_iter(match="*sessions*")])
    finally:
        await client.aclose()


async def test_50_anonymous_page_views_store_no_session(settings: Settings, redis_url: str) -> None:
    app = create_app(settings.with_(redis_url=redis_url, embedded_jobs=True))
    async with AsyncTestClient(app=app) as client:
        user = await api_user(client)
        before = await _session_keys(redis_url)
        for i in range(50):
            client.cookies.clear()  # a new visitor each time
            r = await client.get(("/", "/login", "/register", "/search?q=a", f"/users/{user['username']}")[i % 5])
            assert r.status_code == 200
            assert "session=" not in r.headers.get("set-cookie", "")
        assert await _session_keys(redis_url) == before == 0

        # Logging in creates exactly one; logging out removes it.
        await html_login(client, user["username"])
        assert await _session_keys(redis_url) == 1
        assert (await client.get("/")).status_code == 200
        token = client.cookies.get("csrftoken")
        r = await client.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303
        assert await _session_keys(redis_url) == 0


async def test_flash_after_login_still_shows(client: Any) -> None:
    user = await api_user(client)
    await html_login(client, user["username"])
    r = await client.get("/")
    assert f"Logged in as {user['username']}" in r.text
