"""A real server process and a real Chromium (Debian's, driven by Playwright).

The server runs in embedded mode on a fresh SQLite file built by the migrations, so the browser tests are also
the suite's end-to-end run on SQLite. One server serves the whole e2e session; tests use unique usernames.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import REQUIRE_SERVICES
from tests.factories import PASSWORD, unique

CHROMIUM = os.environ.get("MARKETPLACE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]
ADMIN = ("e2eadmin", "e2e-admin-password")
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, base_url: str, env: dict[str, str]) -> None:
        self.base_url = base_url
        self.env = env

    def url(self, path: str) -> str:
        return self.base_url + path

    def register(self, username: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        """A user made through the API: {"id", "username", "password", "headers"}."""
        username = username or unique("e2e")
        with httpx.Client(base_url=self.base_url, timeout=10) as c:
            r = c.post("/api/v1/auth/register",
                       json={"username": username, "email": f"{username}@example.com", "password": password})
            assert r.status_code == 201, r.text
            r = c.post("/api/v1/auth/token", json={"username": username, "password": password})
            assert r.status_code == 200, r.text
            token = r.json()["token"]
        return {"id": r.json()["user"]["id"], "username": username, "password": password,
                "headers": {"Authorization": f"Bearer {token}"}}

    def admin_headers(self) -> dict[str, str]:
        with httpx.Client(base_url=self.base_url, timeout=10) as c:
            r = c.post("/api/v1/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['token']}"}

    def fund(self, user_id: int, coins: int) -> None:
        """Give coins through the admin adjustment API."""
        with httpx.Client(base_url=self.base_url, timeout=10) as c:
            r = c.post(f"/api/v1/admin/users/{user_id}/adjustments", headers=self.admin_headers(),
                       json={"coins": coins, "reason": "e2e funding"})
            assert r.status_code == 201, r.text


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}"
        if REQUIRE_SERVICES:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    env = {
        **os.environ,
        "MARKETPLACE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/e2e.db",
        "MARKETPLACE_DATA_DIR": str(tmp / "var"),
        "MARKETPLACE_MEDIA_DIR": str(tmp / "var" / "media"),
        "MARKETPLACE_MIN_AUCTION_SECONDS": "60",
        # the tests' auctions run 600 s: with the default hour, the ending_soon sweep (every 20 s) would add a
        # notification at a random moment of a test that counts them
        "MARKETPLACE_ENDING_SOON_SECONDS": "30",
        # today (platform time zone) is the member day, for test_membership_perks_browser (no other test opts in)
        "MARKETPLACE_MEMBER_DAY": str(datetime.now(ZoneInfo("Asia/Shanghai")).day),
        "MARKETPLACE_BASE_URL": f"http://127.0.0.1:{port}",
        "MARKETPLACE_SECRET_KEY": "e2e-secret-key-0123456789abcdef0123456789",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("MARKETPLACE_REDIS_URL", None)
    cli = [sys.executable, "-m", "marketplace.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*cli, "create-admin", ADMIN[0], "--email", "e2e@example.com", "--password", ADMIN[1]],
                   env=env, cwd=ROOT, check=True, capture_output=True)
    log = open(tmp / "server.log", "w")  # noqa: SIM115 - closed after the server stops
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "marketplace.app:create_app_from_env", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail("live server did not start:\n" + (tmp / "server.log").read_text()[-3000:])
        time.sleep(0.2)
    yield LiveServer(base, env)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        new_context = b.new_context

        async def english_by_default(**options: Any) -> Any:
            # Tests read English text; Chinese is the site's default (a test about Chinese passes its own locale).
            options.setdefault("locale", "en-US")
            return await new_context(**options)

        b.new_context = english_by_default
        yield b
        await b.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    p = await context.new_page()
    yield p
    await context.close()


async def ui_login(page: Any, server: LiveServer, username: str, password: str = PASSWORD) -> None:
    """Log in through the real form."""
    await page.goto(server.url("/login"))
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url)


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            # One xdist worker runs every browser test (--dist loadgroup): one live server and one Chromium for
            # the session instead of one per worker, while the other workers run the rest of the suite.
            item.add_marker(pytest.mark.xdist_group("e2e"))
