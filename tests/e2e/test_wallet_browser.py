"""Top up 100 coins in a real Chromium through the sandbox payment page, against the e2e live server (SQLite, whose
default gateway is the sandbox)."""

from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import LiveServer
from tests.factories import PASSWORD, unique

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_topup_100_coins_through_the_sandbox_gateway(live_server: LiveServer, page: Any) -> None:
    base = live_server.base_url
    username = unique("payer")
    async with httpx.AsyncClient(base_url=base) as api:
        r = await api.post("/api/v1/auth/register",
                           json={"username": username, "email": f"{username}@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text

    page.set_default_timeout(15_000)
    await page.goto(f"{base}/login?next=/wallet")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url(f"{base}/wallet")
    await expect(page.locator("#wallet-available")).to_have_attribute("data-coins", "0")

    await page.fill("#topup-form input[name=coins]", "100")
    await page.click("#topup-form button[type=submit]")
    await page.wait_for_url("**/payments/sandbox/pay?**")
    await expect(page.locator(".sandbox-amount")).to_have_text("¥10.00")

    await page.click("#sandbox-pay")
    await page.wait_for_url("**/wallet?topup=*")
    await expect(page.locator("#wallet-available")).to_have_attribute("data-coins", "100")
    await expect(page.locator(".topup-return")).to_contain_text("paid")
    await expect(page.locator("table.wallet-entries")).to_contain_text("Top-up #")
