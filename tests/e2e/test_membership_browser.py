"""In Chromium: the buy form's points input and live total (static/js/buy.js), then the order page's breakdown
and /me/membership."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.e2e.conftest import LiveServer, ui_login
from tests.e2e.test_listings_browser import _direct, fund, leaf_category


async def test_points_and_free_shipping_on_the_buy_form(live_server: LiveServer, browser: Any) -> None:
    category_id, _ = await leaf_category(live_server)
    seller, buyer = live_server.register(), live_server.register()
    await fund(live_server, seller["id"], 100)
    await fund(live_server, buyer["id"], 5_000)

    async def grant(session: Any) -> None:
        from marketplace.db import utcnow
        from marketplace.membership.services import grant_points
        from marketplace.settings import Settings

        await grant_points(session, buyer["id"], 1_000, now=utcnow(), settings=Settings())

    await _direct(live_server, grant)
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        r = await c.post("/api/v1/listings", headers=seller["headers"], json={
            "title": "Teapot 茶壶", "category_id": category_id, "mode": "fixed", "price": 940, "quantity": 5,
            "shipping_fee": 80})
        assert r.status_code == 201, r.text
        listing_id = r.json()["id"]

    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(10_000)
    await ui_login(page, live_server, buyer["username"])
    await page.goto(live_server.url(f"/listings/{listing_id}"))
    assert await page.inner_text("#buy-total") == "1,020 🪙"  # 940 + 80 shipping
    await page.fill("#buy-form input[name=quantity]", "2")
    assert await page.inner_text("#buy-total") == "1,880 🪙"  # 188 yuan: free shipping
    assert "free shipping" in await page.inner_text("#buy-breakdown")
    await page.fill("#buy-points", "500")
    assert await page.inner_text("#buy-total") == "1,870 🪙"  # −10 coins for 500 points
    await page.click("#buy-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/checkout"))
    assert await page.inner_text("#checkout-total") == "1,870 🪙"  # the confirmation prices it the same way
    await page.click("#confirm-pay")
    await page.wait_for_url(re.compile(r"/orders/\d+$"))
    assert "Bought! Order #" in await page.inner_text(".flashes")
    order_id = re.search(r"Order #(\d+)", await page.inner_text(".flashes")).group(1)  # type: ignore[union-attr]
    await page.goto(live_server.url(f"/orders/{order_id}"))
    assert await page.inner_text(".order-total") == "1,870 🪙"
    assert (await page.inner_text(".order-platform-paid")).startswith("90 🪙")  # 10 for points + 80 shipping
    kinds = await page.locator(".order-discount").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds == ["points", "free_shipping"]
    await page.goto(live_server.url("/me/membership"))
    assert await page.inner_text("#points-available") == "500"
    assert await page.inner_text("#points-frozen") == "187"  # round_half_up(1,870 / 10)
    await ctx.close()
