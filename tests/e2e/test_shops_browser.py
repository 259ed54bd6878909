"""Open a shop through /shop/manage in Chromium, list an item inside the free quota through /sell (no fee), and
see it on the shop page."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.e2e.conftest import LiveServer, ui_login
from tests.factories import unique


async def leaf_category(server: LiveServer, admin: dict[str, str]) -> int:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as c:
        root = await c.post("/api/v1/admin/categories", headers=admin, json={"name": unique("Shop root "),
                                                                            "parent_id": None})
        leaf = await c.post("/api/v1/admin/categories", headers=admin, json={"name": "Maps 地图",
                                                                            "parent_id": root.json()["id"]})
        assert leaf.status_code == 201, leaf.text
        return int(leaf.json()["id"])


async def test_open_a_shop_and_see_its_page(live_server: LiveServer, page: Any) -> None:
    user = live_server.register()
    live_server.fund(user["id"], 150)
    category_id = await leaf_category(live_server, live_server.admin_headers())
    await ui_login(page, live_server, user["username"])

    await page.goto(live_server.url("/shop/manage"))
    slug = unique("e2e-shop-")
    await page.fill("#open-shop input[name=name]", "Browser Books 浏览器书店")
    await page.fill("#open-shop input[name=slug]", slug)
    await page.fill("#open-shop textarea[name=description]", "Books bought in a real browser.")
    async with page.expect_navigation():
        await page.click("#open-shop button[type=submit]")
    assert page.url == live_server.url("/shop/manage"), await page.content()
    assert "is open" in await page.inner_text(".flashes")
    assert await page.inner_text(".free-remaining") == "50"
    assert "active" in await page.inner_text(".shop-status")

    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        assert (await c.get("/api/v1/me", headers=user["headers"])).json()["wallet"]["available"] == 50

    # List inside the free quota through the real sell form: no insertion fee is taken.
    await page.goto(live_server.url("/sell"))
    await page.check("input[name=mode][value=fixed]")
    await page.fill("input[name=title]", "Well-read atlas 旧地图集")
    await page.select_option("select[name=category_id]", str(category_id))
    await page.fill("input[name=price]", "42")
    await page.fill("input[name=quantity]", "1")
    await page.click("#sell-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/listings/\d+$"))
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        assert (await c.get("/api/v1/me", headers=user["headers"])).json()["wallet"]["available"] == 50
        listing = (await c.get(page.url.replace("/listings/", "/api/v1/listings/"))).json()
        assert listing["shop"] == {"slug": slug, "name": "Browser Books 浏览器书店"}

    await page.goto(live_server.url("/shop/manage"))
    assert await page.inner_text(".free-remaining") == "49"
    await page.goto(live_server.url(f"/shops/{slug}"))
    assert "Browser Books 浏览器书店" in await page.inner_text("h1")
    assert "Member since" in await page.inner_text(".shop-header")
    assert "Well-read atlas" in await page.inner_text(".shop-listings")
