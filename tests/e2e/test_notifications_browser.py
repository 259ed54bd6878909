"""Two browser contexts: B outbids A on the auction page; A's header badge (on another page) goes up without a
reload. Then the watch button toggles without a reload and the watchlist page lists the item."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import expect

from tests.e2e.conftest import LiveServer, ui_login
from tests.e2e.test_auctions_browser import _auction_url, _seed_direct, _try_api


async def test_outbid_badge_goes_up_live(live_server: LiveServer, browser: Any, page: Any) -> None:
    seller, alice, bob = live_server.register(), live_server.register(), live_server.register()
    listing_id = _try_api(live_server, seller, [alice, bob])
    if listing_id is None:
        listing_id = await _seed_direct(live_server, seller["id"], [alice["id"], bob["id"]])
    url = await _auction_url(live_server, listing_id)
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        r = await c.post(f"/api/v1/listings/{listing_id}/bids", json={"max_amount": 300}, headers=alice["headers"])
        assert r.status_code == 201, r.text

    other_context = await browser.new_context(viewport={"width": 1280, "height": 900})
    other_context.set_default_timeout(10_000)
    other = await other_context.new_page()
    try:
        await ui_login(page, live_server, alice["username"])
        await ui_login(other, live_server, bob["username"])
        await page.goto(live_server.url("/watchlist"))  # not the auction page: the header alone updates
        await page.wait_for_selector("#notif-bell[data-socket=open]")
        assert await page.get_attribute("#notif-count", "data-unread") == "0"
        assert await page.is_hidden("#notif-count")

        await other.goto(url)
        await other.wait_for_selector("#auction-box[data-socket=open]")
        await other.fill("input[name=max_amount]", "500")
        await other.click("[data-bid-form] button[type=submit]")

        # expect(), not wait_for_function(): a string predicate is eval'd, which the site's CSP forbids
        await expect(page.locator("#notif-count")).to_have_attribute("data-unread", "1", timeout=3000)
        assert await page.is_visible("#notif-count")
        assert (await page.inner_text("#notif-count")).strip() == "1"
        assert page.url.endswith("/watchlist")  # no reload, no navigation

        # The bell leads to the notification; marking all read empties the badge.
        await page.click("#notif-bell")
        await page.wait_for_selector("text=You were outbid")
        await page.click("form[action='/notifications/read'] button >> text=Mark all read")
        await page.wait_for_selector("#notif-count", state="hidden")

        # Watch button on the listing page: toggles without a reload.
        await other.goto(live_server.url(f"/listings/{listing_id}"))
        button = other.locator(f"form[data-watch-listing='{listing_id}'] .watch-btn").first
        await button.wait_for()
        await expect(other.locator(f"form[data-watch-listing='{listing_id}']").first).to_have_attribute(
            "data-watched", "0")
        await button.click()
        await expect(button).to_have_attribute("aria-pressed", "true")
        assert other.url.endswith(f"/listings/{listing_id}")
        await other.goto(live_server.url("/watchlist"))
        assert "E2E auction camera" in await other.inner_text("main")
    finally:
        await other_context.close()
