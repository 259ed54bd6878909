"""In Chromium: a J2 member buys a member-day listing on the member day (docs/rules.md §15): the /member-day zone,
the badge, the listing page's "your price", the buy form's total and the order's seller-funded discount."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.e2e.conftest import LiveServer, ui_login
from tests.e2e.test_listings_browser import _direct, fund, leaf_category


async def test_j2_member_buys_on_member_day(live_server: LiveServer, browser: Any) -> None:
    category_id, _ = await leaf_category(live_server)
    seller, buyer = live_server.register(), live_server.register()
    await fund(live_server, seller["id"], 100)
    await fund(live_server, buyer["id"], 13_000)

    async def make_j2(session: Any) -> None:
        from marketplace.accounts.models import User
        from marketplace.orders.services import OrderService
        from tests.factories import make_order

        user = await session.get(User, buyer["id"])
        order = await make_order(session, buyer=user, price=10_001)  # J2 from 10,001 coins of effective spend
        await OrderService(session).ship(order.id, order.seller_id)
        await OrderService(session).confirm(order.id, buyer["id"])

    await _direct(live_server, make_j2)
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        r = await c.post("/api/v1/listings", headers=seller["headers"], json={
            "title": "Member-day teacup 会员日茶杯", "category_id": category_id, "mode": "fixed", "price": 1_001,
            "quantity": 5, "member_day": True})
        assert r.status_code == 201, r.text
        listing_id = r.json()["id"]

    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(10_000)
    await ui_login(page, live_server, buyer["username"])
    await page.goto(live_server.url("/member-day"))
    assert await page.is_visible("#member-day-today")
    assert await page.inner_text("#member-day-discount") == "10 %"
    card = page.locator(".card-wrap", has_text="Member-day teacup")
    assert await card.locator(".member-day-badge").count() == 1
    await card.locator("a.item-card").click()
    await page.wait_for_url(re.compile(rf"/listings/{listing_id}$"))
    assert await page.inner_text("#your-price") == "901 🪙"  # ceil(1,001 × 0.9)
    await page.fill("#buy-form input[name=quantity]", "2")
    assert await page.inner_text("#buy-total") == "1,802 🪙"
    await page.click("#buy-form button[type=submit]")
    # The checkout confirmation (docs/rules.md §19.3) shows the member-day total before paying.
    await page.wait_for_url(re.compile(rf"/listings/{listing_id}/checkout"))
    assert await page.inner_text("#checkout-total") == "1,802 🪙"
    await page.click("#confirm-pay")
    await page.wait_for_url(re.compile(r"/orders/\d+$"))
    assert await page.inner_text(".order-total") == "1,802 🪙"
    kinds = await page.locator(".order-discount").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds == ["member_day"]
    await ctx.close()
