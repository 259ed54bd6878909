"""In Chromium: a J1 member sets a birthday in this month on /me/membership (a wrong date first: the form error),
then buys a 2,000-coin item with the birthday coupon picked on the checkout's coupon picker (docs/rules.md §15)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.conftest import LiveServer, ui_login
from tests.e2e.test_listings_browser import _direct, fund, leaf_category


async def test_birthday_form_then_coupon_at_checkout(live_server: LiveServer, browser: Any) -> None:
    category_id, _ = await leaf_category(live_server)
    seller, buyer = live_server.register(), live_server.register()
    await fund(live_server, seller["id"], 100)
    await fund(live_server, buyer["id"], 5_000)

    async def make_j1(session: Any) -> None:
        from marketplace.accounts.models import User
        from marketplace.orders.services import OrderService
        from tests.factories import make_order

        user = await session.get(User, buyer["id"])
        order = await make_order(session, buyer=user, price=2_000)  # J1: a 20-yuan birthday coupon
        await OrderService(session).ship(order.id, order.seller_id)
        await OrderService(session).confirm(order.id, buyer["id"])

    await _direct(live_server, make_j1)
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        r = await c.post("/api/v1/listings", headers=seller["headers"], json={
            "title": "Birthday vase 生日花瓶", "category_id": category_id, "mode": "fixed", "price": 2_000,
            "quantity": 2})
        assert r.status_code == 201, r.text
        listing_id = r.json()["id"]
    month = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).month

    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(10_000)
    await ui_login(page, live_server, buyer["username"])
    await page.goto(live_server.url("/me/membership#birthday"))
    await page.fill("#birthday-form input[name=month]", "2")
    await page.fill("#birthday-form input[name=day]", "30")
    await page.click("#birthday-form button[type=submit]")
    await page.wait_for_selector("#birthday-error")
    assert "That month has 29 days." in await page.inner_text("#birthday-error")
    await page.fill("#birthday-form input[name=month]", str(month))
    await page.fill("#birthday-form input[name=day]", "1")
    await page.click("#birthday-form button[type=submit]")
    await page.wait_for_selector("#birthday-current")
    assert f"{month}/1" in await page.inner_text("#birthday-current")
    assert "usable at checkout" in await page.inner_text("#my-coupons")

    await page.goto(live_server.url(f"/listings/{listing_id}/checkout"))
    assert await page.inner_text("#checkout-total") == "2,000 🪙"
    usable = page.locator("#coupon-form .coupon-option input[type=radio]:not([disabled]):not([value=''])")
    assert await usable.count() == 1
    await usable.check()
    await page.click("#apply-coupon")
    await page.wait_for_url(re.compile(r"coupon_id=\d+"))
    assert await page.inner_text("#checkout-total") == "1,800 🪙"
    await page.click("#confirm-pay")
    await page.wait_for_url(re.compile(r"/orders/\d+$"))
    assert await page.inner_text(".order-total") == "1,800 🪙"
    kinds = await page.locator(".order-discount").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds == ["coupon"]
    await ctx.close()
