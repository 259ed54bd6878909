"""The home page renders in a real browser and a new user can log in through the form."""

from typing import Any

from tests.e2e.conftest import LiveServer, ui_login


async def test_register_and_log_in_in_chromium(live_server: LiveServer, page: Any) -> None:
    user = live_server.register()
    await page.goto(live_server.url("/"))
    assert "Coin Market" in await page.title()
    await ui_login(page, live_server, user["username"])
    assert user["username"] in await page.inner_text("header")
