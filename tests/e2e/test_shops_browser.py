"""Open a shop through /shop/manage in Chromium, then see the shop page (with a listing in it)."""

from __future__ import annotations

from typing import Any

import httpx

import marketplace.models  # noqa: F401 - every mapped class, so foreign keys resolve
from marketplace.db import create_engine, session_factory
from marketplace.wallet import ledger
from tests.e2e.conftest import LiveServer, ui_login
from tests.factories import unique


async def fund(server: LiveServer, user_id: int, coins: int) -> None:
    """Coins through the admin adjustments API when this build has it, else straight through the ledger."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as c:
        r = await c.post(f"/api/v1/admin/users/{user_id}/adjustments", headers=server.admin_headers(),
                         json={"coins": coins, "reason": "e2e funding"})
    if r.status_code == 201:
        return
    engine = create_engine(server.env["MARKETPLACE_DATABASE_URL"])
    try:
        async with session_factory(engine)() as s, s.begin():
            await ledger.post(s, kind="adjustment",
                              legs=[ledger.Leg(ledger.platform("adjustments"), -coins),
                                    ledger.Leg(ledger.available(user_id), coins)],
                              ref_type="user", ref_id=user_id, memo="e2e funding")
    finally:
        await engine.dispose()


async def add_shop_listing(server: LiveServer, seller_id: int, shop_id: int, title: str) -> None:
    """A free listing in the shop, written the way the sell flow stores one (POST /listings is another domain)."""
    from sqlalchemy import select

    from marketplace.catalog.models import Category, Listing
    from marketplace.db import utcnow

    engine = create_engine(server.env["MARKETPLACE_DATABASE_URL"])
    try:
        async with session_factory(engine)() as s, s.begin():
            category = await s.scalar(select(Category).where(Category.slug == "e2e-shops"))
            if category is None:
                category = Category(name="E2E shops", slug="e2e-shops")
                s.add(category)
                await s.flush()
            s.add(Listing(seller_id=seller_id, shop_id=shop_id, category_id=category.id, title=title, mode="fixed",
                          status="active", price=42, current_price=42, quantity=1, quantity_available=1,
                          free_listing=True, created_at=utcnow()))
    finally:
        await engine.dispose()


async def test_open_a_shop_and_see_its_page(live_server: LiveServer, page: Any) -> None:
    user = live_server.register()
    await fund(live_server, user["id"], 150)
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
        shop = (await c.get(f"/api/v1/shops/{slug}")).json()
        assert (await c.get("/api/v1/me", headers=user["headers"])).json()["wallet"]["available"] == 50
    await add_shop_listing(live_server, user["id"], shop["id"], "Well-read atlas 旧地图集")

    await page.goto(live_server.url(f"/shops/{slug}"))
    assert "Browser Books 浏览器书店" in await page.inner_text("h1")
    assert "Member since" in await page.inner_text(".shop-header")
    assert "Well-read atlas" in await page.inner_text(".shop-listings")
