"""An order's whole life in Chromium: the buyer buys with "Buy now", the seller ships, the buyer confirms, and
both leave feedback."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import LiveServer, ui_login
from tests.factories import unique


def list_item(server: LiveServer, seller: dict[str, Any], price: int) -> int:
    """A fixed-price listing published through the API (the seller pays the 2-coin insertion fee)."""
    admin = server.admin_headers()
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        root = c.post("/api/v1/admin/categories", headers=admin, json={"name": unique("Orders "), "parent_id": None})
        leaf = c.post("/api/v1/admin/categories", headers=admin, json={"name": "Lamps", "parent_id": root.json()["id"]})
        r = c.post("/api/v1/listings", headers=seller["headers"], json={
            "title": "Brass desk lamp 黄铜台灯", "description": "Works.", "category_id": leaf.json()["id"],
            "mode": "fixed", "price": price, "quantity": 1})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


async def buy_in_browser(server: LiveServer, browser: Any, buyer: dict[str, Any], listing_id: int) -> int:
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(10_000)
    try:
        await ui_login(page, server, buyer["username"])
        await page.goto(server.url(f"/listings/{listing_id}"))
        async with page.expect_navigation():
            await page.click(".buy-form button[type=submit]")
        async with page.expect_navigation():  # the checkout confirmation (docs/rules.md §19.3)
            await page.click("#confirm-pay")
    finally:
        await context.close()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as c:
        r = await c.get("/api/v1/orders", params={"role": "buyer"}, headers=buyer["headers"])
        orders = r.json()["items"]
    assert [o["listing_id"] for o in orders] == [listing_id]
    return int(orders[0]["id"])


async def test_ship_confirm_and_feedback_both_ways(live_server: LiveServer, page: Any, browser: Any) -> None:
    seller, buyer = live_server.register(), live_server.register()
    live_server.fund(seller["id"], 10)
    live_server.fund(buyer["id"], 300)
    oid = await buy_in_browser(live_server, browser, buyer, list_item(live_server, seller, price=240))

    # The seller ships with a tracking number from "My sales".
    await ui_login(page, live_server, seller["username"])
    await page.goto(live_server.url("/my/sales"))
    row = page.locator(f"#order-{oid}")
    assert await row.locator("[data-status]").get_attribute("data-status") == "paid"
    await row.locator("input[name=tracking]").fill("SF-2026-001")
    await row.get_by_role("button", name="Mark shipped").click()
    await page.wait_for_url(live_server.url("/my/sales"))
    assert "Marked as shipped" in await page.inner_text(".flashes")
    assert await row.locator("[data-status]").get_attribute("data-status") == "shipped"

    # The buyer, in a browser of their own, confirms receipt and rates the seller.
    context = await browser.new_context()
    buyer_page = await context.new_page()
    buyer_page.set_default_timeout(10_000)
    try:
        await ui_login(buyer_page, live_server, buyer["username"])
        await buyer_page.goto(live_server.url("/my/purchases"))
        brow = buyer_page.locator(f"#order-{oid}")
        assert "SF-2026-001" in await brow.inner_text()
        await brow.get_by_role("button", name="Confirm receipt").click()
        await buyer_page.wait_for_url(live_server.url("/my/purchases"))
        assert "seller has been paid" in await buyer_page.inner_text(".flashes")
        assert await brow.locator("[data-status]").get_attribute("data-status") == "completed"
        await brow.locator("input[name=rating][value=positive]").check()
        await brow.locator("input[name=comment]").fill("Fast and well packed")
        await brow.get_by_role("button", name="Leave feedback").click()
        await buyer_page.wait_for_url(live_server.url("/my/purchases"))
        assert "Thank you for your feedback" in await buyer_page.inner_text(".flashes")
        assert await brow.locator("form.form-feedback").count() == 0
    finally:
        await context.close()

    # The seller rates the buyer from the order page, whose timeline shows every step.
    await page.goto(live_server.url(f"/orders/{oid}"))
    await page.locator("input[name=rating][value=positive]").check()
    await page.locator("input[name=comment]").fill("Smooth buyer")
    await page.get_by_role("button", name="Leave feedback").click()
    await page.wait_for_url(live_server.url(f"/orders/{oid}"))
    timeline = await page.inner_text(".timeline")
    for step in ("Paid", "Shipped", "Completed"):
        assert step in timeline
    assert "Fast and well packed" in await page.inner_text(".order-detail")
    assert "seller received 228" in await page.inner_text(".order-detail")  # 240 − 12 (5 %)

    await page.goto(live_server.url(f"/users/{seller['username']}"))
    assert "Feedback score 1" in await page.inner_text(".profile-head")
    assert "Fast and well packed" in await page.inner_text("main")
    await page.goto(live_server.url(f"/users/{buyer['username']}"))
    assert "Smooth buyer" in await page.inner_text("main")


async def test_dispute_resolved_by_an_admin(live_server: LiveServer, page: Any, browser: Any) -> None:
    import httpx

    from tests.e2e.conftest import ADMIN

    seller, buyer = live_server.register(), live_server.register()
    live_server.fund(seller["id"], 10)
    live_server.fund(buyer["id"], 100)
    listing_id = list_item(live_server, seller, price=80)
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        r = await c.post(f"/api/v1/listings/{listing_id}/buy", headers=buyer["headers"], json={"quantity": 1})
        assert r.status_code == 201, r.text
        oid = r.json()["id"]
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:  # shipping is covered above
        r = await c.post(f"/api/v1/orders/{oid}/ship", headers=seller["headers"], json={"tracking": "YT-9"})
        assert r.status_code == 200, r.text

    await ui_login(page, live_server, buyer["username"])
    await page.goto(live_server.url(f"/orders/{oid}"))
    await page.locator("details.order-dispute summary").click()
    await page.locator("textarea[name=reason]").fill("The parcel was empty")
    await page.get_by_role("button", name="Open dispute").click()
    await page.wait_for_url(live_server.url(f"/orders/{oid}"))
    assert "Dispute opened" in await page.inner_text(".flashes")
    assert await page.locator(".order-detail [data-status]").first.get_attribute("data-status") == "disputed"

    context = await browser.new_context()
    admin_page = await context.new_page()
    admin_page.set_default_timeout(10_000)
    try:
        await ui_login(admin_page, live_server, ADMIN[0], ADMIN[1])
        await admin_page.goto(live_server.url("/admin/disputes"))
        row = admin_page.locator(f"#order-{oid}")
        assert "The parcel was empty" in await row.inner_text()
        await row.get_by_role("button", name="Refund buyer").click()
        await admin_page.wait_for_url(live_server.url("/admin/disputes"))
        assert "refunded to the buyer" in await admin_page.inner_text(".flashes")
        assert await admin_page.locator(f"#order-{oid}").count() == 0
    finally:
        await context.close()

    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        me = (await c.get("/api/v1/me", headers=buyer["headers"])).json()
        assert me["wallet"] == {"available": 100, "held": 0}  # the 80 paid came back
        assert (await c.get(f"/api/v1/orders/{oid}", headers=buyer["headers"])).json()["status"] == "refunded"
