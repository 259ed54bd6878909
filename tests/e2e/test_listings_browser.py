"""In Chromium: list an item with three photos through /sell, find it through search, buy it as another user."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import LiveServer, ui_login
from tests.imagedata import png_bytes


async def _direct(server: LiveServer, action: Any) -> Any:
    """Write straight to the live server's database through marketplace code (fixtures only)."""
    import marketplace.models  # noqa: F401  (every mapper, for the foreign keys)
    from marketplace.db import create_engine, session_factory

    engine = create_engine(server.env["MARKETPLACE_DATABASE_URL"])
    try:
        async with session_factory(engine)() as session, session.begin():
            return await action(session)
    finally:
        await engine.dispose()


async def fund(server: LiveServer, user_id: int, coins: int) -> None:
    """The admin adjustment API when this build has it; otherwise the same ledger post, done directly."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as c:
        r = await c.post(f"/api/v1/admin/users/{user_id}/adjustments", headers=server.admin_headers(),
                         json={"coins": coins, "reason": "e2e funding"})
    if r.status_code == 201:
        return
    from tests.factories import fund as ledger_fund

    await _direct(server, lambda s: ledger_fund(s, user_id, coins))


async def leaf_category(server: LiveServer) -> tuple[int, str]:
    from tests.factories import make_category

    async def make(session: Any) -> tuple[int, str]:
        root = await make_category(session, "E2E Electronics")
        leaf = await make_category(session, "E2E Cameras", root)
        return leaf.id, leaf.name

    result: tuple[int, str] = await _direct(server, make)
    return result


async def test_sell_with_three_photos_search_and_buy(live_server: LiveServer, browser: Any,
                                                     tmp_path: Path) -> None:
    category_id, _ = await leaf_category(live_server)
    seller = live_server.register()
    buyer = live_server.register()
    await fund(live_server, seller["id"], 100)
    await fund(live_server, buyer["id"], 1000)
    photos = []
    for i in range(3):
        path = tmp_path / f"photo{i}.png"
        path.write_bytes(png_bytes(640, 480, (40 * i, 120, 200 - 40 * i)))
        photos.append(str(path))
    token = secrets.token_hex(3)
    title = f"Film camera {token} 胶片相机"

    seller_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await seller_ctx.new_page()
    page.set_default_timeout(10_000)
    await ui_login(page, live_server, seller["username"])
    await page.goto(live_server.url("/sell"))
    await page.check("input[name=mode][value=fixed]")
    await page.fill("input[name=title]", title)
    await page.select_option("select[name=category_id]", str(category_id))
    await page.fill("textarea[name=description]", "Works well.\n测光正常")
    await page.fill("input[name=price]", "250")
    await page.fill("input[name=quantity]", "1")
    await page.set_input_files("input[name=images]", photos)
    assert await page.locator("#previews img").count() == 3  # the script's previews
    await page.click("#sell-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/listings/\d+$"))
    listing_url = page.url
    assert "Your listing is live" in await page.inner_text(".flashes")
    assert await page.locator(".gallery-thumb").count() == 3
    await page.locator(".gallery-thumb").nth(2).click()
    assert await page.get_attribute("#gallery-main", "src") == await page.locator(
        ".gallery-thumb").nth(2).get_attribute("data-full")
    await seller_ctx.close()

    buyer_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await buyer_ctx.new_page()
    page.set_default_timeout(10_000)
    await ui_login(page, live_server, buyer["username"])
    await page.fill("header input[name=q]", f"{token} 相机")
    await page.press("header input[name=q]", "Enter")
    await page.wait_for_url(re.compile(r"/search\?"))
    cards = page.locator(".results .item-card")
    assert await cards.count() == 1
    await cards.first.click()
    await page.wait_for_url(listing_url)
    await page.click(".buy-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/checkout"))  # the confirmation step (docs/rules.md §19.3)
    await page.click("#confirm-pay")
    await page.wait_for_url(re.compile(r"/orders/\d+$"))
    assert "Bought! Order #" in await page.inner_text(".flashes")
    await page.goto(listing_url)
    assert await page.inner_text("#listing-status") == "Sold"
    await buyer_ctx.close()

    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        me = (await c.get("/api/v1/me", headers=buyer["headers"])).json()
        assert me["wallet"]["available"] == 750
        me = (await c.get("/api/v1/me", headers=seller["headers"])).json()
        assert me["wallet"]["available"] == 98
