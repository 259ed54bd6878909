"""docs/rules.md §19 in Chromium: add an address, Buy Now on an auction through the checkout confirmation, a
double click on "Confirm and pay" makes one order, and the seller sees the address on the order page."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.e2e.conftest import LiveServer, ui_login
from tests.factories import unique


def list_auction(server: LiveServer, seller: dict[str, Any]) -> int:
    admin = server.admin_headers()
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        root = c.post("/api/v1/admin/categories", headers=admin, json={"name": unique("Trading "), "parent_id": None})
        leaf = c.post("/api/v1/admin/categories", headers=admin,
                      json={"name": "Clocks", "parent_id": root.json()["id"]})
        r = c.post("/api/v1/listings", headers=seller["headers"], json={
            "title": "Wall clock 挂钟", "description": "Ticks.", "category_id": leaf.json()["id"],
            "mode": "auction", "start_price": 50, "buy_now_price": 200, "duration_seconds": 3600})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


async def test_buy_now_with_checkout_and_address(live_server: LiveServer, browser: Any) -> None:
    seller, buyer = live_server.register(), live_server.register()
    live_server.fund(seller["id"], 10)
    live_server.fund(buyer["id"], 500)
    listing_id = list_auction(live_server, seller)

    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(10_000)
    await ui_login(page, live_server, buyer["username"])
    await page.goto(live_server.url(f"/listings/{listing_id}"))
    await page.click("#buy-now-form button")
    await page.wait_for_url(re.compile(rf"/listings/{listing_id}/checkout"))
    assert "No address yet" in await page.inner_text("#checkout")
    await page.click("#add-address")
    await page.wait_for_url(re.compile(r"/my/addresses"))
    for name, value in (("name", "赵六"), ("phone", "13700001111"), ("province", "北京市"), ("city", "北京市"),
                        ("district", "海淀区"), ("detail", "中关村大街 27 号")):
        await page.fill(f"#address-form [name={name}]", value)
    await page.click("#address-form button[type=submit]")
    await page.wait_for_url(re.compile(rf"/listings/{listing_id}/checkout"))
    assert await page.inner_text("#checkout-total") == "200 🪙"
    assert await page.inner_text("#checkout-balance-after") == "300 🪙"
    assert "中关村大街 27 号" in await page.inner_text("#checkout")
    await page.dblclick("#confirm-pay")  # a double click still makes one order
    await page.wait_for_url(re.compile(r"/orders/\d+$"))
    assert "Order #" in await page.inner_text(".flashes")
    await ctx.close()

    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        orders = (await c.get("/api/v1/orders", params={"role": "buyer"}, headers=buyer["headers"])).json()["items"]
        assert len(orders) == 1
        assert orders[0]["source"] == "buy_now"
        assert (await c.get("/api/v1/me", headers=buyer["headers"])).json()["wallet"]["available"] == 300
    oid = orders[0]["id"]

    ctx = await browser.new_context()
    page = await ctx.new_page()
    page.set_default_timeout(10_000)
    await ui_login(page, live_server, seller["username"])
    await page.goto(live_server.url(f"/orders/{oid}"))
    address = await page.inner_text("#order-address")
    assert "赵六" in address
    assert "13700001111" in address
    await ctx.close()
