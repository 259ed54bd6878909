"""Phones and local time in Chromium (docs/architecture.md "Mobile", "Local time").

At 390 px no main page is wider than the screen (``scrollWidth <= innerWidth``): tables become stacked cards, the
home page shows two columns of cards with the category tree behind a button and the first item near the top. At
1280 px the pages show local times ("… (UTC+8)") and an anonymous visitor's times follow the browser's zone.
Screenshots of home, listing and wallet at both widths go to ``$MARKETPLACE_SHOTS`` (default /tmp/shots).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ADMIN, LiveServer, ui_login
from tests.factories import unique

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = Path(os.environ.get("MARKETPLACE_SHOTS", "/tmp/shots"))
OVERFLOW = "() => [document.documentElement.scrollWidth, window.innerWidth]"
LOCAL = re.compile(r"\d\d-\d\d \d\d:\d\d \(UTC\+8\)")


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> dict[str, Any]:
    """A Chinese-named seller with a shop, a fixed-price item, an auction with Buy Now; a buyer who bought the
    item (an order, wallet history, notifications) and has an address."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    seller = live_server.register(unique("卖家"))
    buyer = live_server.register(unique("买家"))
    live_server.fund(seller["id"], 1000)
    live_server.fund(buyer["id"], 2000)
    admin = live_server.admin_headers()
    with httpx.Client(base_url=live_server.base_url, timeout=10) as c:
        root = c.post("/api/v1/admin/categories", headers=admin, json={"name": unique("手机数码"), "parent_id": None})
        assert root.status_code == 201, root.text
        leaf = c.post("/api/v1/admin/categories", headers=admin,
                      json={"name": unique("手机"), "parent_id": root.json()["id"]})
        category_id = leaf.json()["id"]
        shop = c.post("/api/v1/shops", headers=seller["headers"],
                      json={"name": unique("小明的店"), "slug": unique("xiaoming-shop"), "plan": "basic"})
        assert shop.status_code == 201, shop.text
        fixed = c.post("/api/v1/listings", headers=seller["headers"], json={
            "title": "华为 Mate 60 Pro 12GB+512GB 雅川青 全网通 手机 九成新 带原装充电器和保护壳",
            "description": "很新。" * 40, "category_id": category_id, "mode": "fixed", "price": 300, "quantity": 3})
        assert fixed.status_code == 201, fixed.text
        auction = c.post("/api/v1/listings", headers=seller["headers"], json={
            "title": "青花花瓶 Blue-and-white vase", "description": "Old.", "category_id": category_id,
            "mode": "auction", "start_price": 50, "buy_now_price": 900, "duration_seconds": 8100})
        assert auction.status_code == 201, auction.text
        bought = c.post(f"/api/v1/listings/{fixed.json()['id']}/buy", headers=buyer["headers"], json={"quantity": 1})
        assert bought.status_code == 201, bought.text
        address = c.post("/api/v1/me/addresses", headers=buyer["headers"], json={
            "name": "赵六", "phone": "13700001111", "province": "北京市", "city": "北京市", "district": "海淀区",
            "detail": "中关村大街 27 号 科技大厦 B 座 1203 室", "is_default": True})
        assert address.status_code == 201, address.text
        slug = leaf.json().get("slug")
    return {"seller": seller, "buyer": buyer, "fixed": fixed.json()["id"], "auction": auction.json()["id"],
            "shop": shop.json()["slug"], "category_slug": slug, "order": bought.json().get("id")}


async def _context(browser: Any, viewport: dict[str, int], **kw: Any) -> Any:
    ctx = await browser.new_context(viewport=viewport, **kw)
    ctx.set_default_timeout(15_000)
    return ctx


async def _assert_fits(page: Any, server: LiveServer, path: str) -> None:
    response = await page.goto(server.url(path))
    assert response is not None, path
    assert response.status == 200, (path, response.status)
    width, inner = await page.evaluate(OVERFLOW)
    # a mobile browser zooms out to fit a too-wide page (innerWidth grows with it): compare with the screen too
    assert width <= min(inner, PHONE["width"]), f"{path} is {width} px wide on a {PHONE['width']} px screen"


async def _shot(page: Any, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_no_main_page_overflows_a_phone(live_server: LiveServer, browser: Any, world: dict[str, Any]) -> None:
    anonymous = ["/", "/search?q=%E6%89%8B%E6%9C%BA", f"/listings/{world['fixed']}", f"/listings/{world['auction']}",
                 f"/shops/{world['shop']}", "/member-day", "/register", "/login"]
    if world["category_slug"]:
        anonymous.append(f"/c/{world['category_slug']}")
    ctx = await _context(browser, PHONE, is_mobile=True, has_touch=True)
    page = await ctx.new_page()
    for path in anonymous:
        await _assert_fits(page, live_server, path)
    await ctx.close()

    ctx = await _context(browser, PHONE, is_mobile=True, has_touch=True)
    page = await ctx.new_page()
    await ui_login(page, live_server, world["buyer"]["username"])
    buyer_pages = ["/", "/wallet", "/my/purchases", f"/listings/{world['auction']}/checkout", "/my/addresses",
                   "/me/membership", "/member-day", "/notifications", "/account/settings", "/my/bids", "/watchlist",
                   f"/listings/{world['auction']}"]
    if world["order"]:
        buyer_pages.append(f"/orders/{world['order']}")
    for path in buyer_pages:
        await _assert_fits(page, live_server, path)
    # the wallet history is a stack of labelled cards, not a 600 px table
    await page.goto(live_server.url("/wallet"))
    label = await page.eval_on_selector("main table.stacked tbody td", "td => getComputedStyle(td, '::before').content")
    assert label not in ("none", '""'), label
    await ctx.close()

    ctx = await _context(browser, PHONE, is_mobile=True, has_touch=True)
    page = await ctx.new_page()
    await ui_login(page, live_server, world["seller"]["username"])
    seller_pages = ["/my/sales", "/my/listings", "/shop/manage", f"/users/{world['seller']['username']}", "/sell"]
    if world["order"]:
        seller_pages.append(f"/orders/{world['order']}")
    for path in seller_pages:
        await _assert_fits(page, live_server, path)
    # the seller's listing page with the "edit listing" form open: its inputs shrink to the screen
    await _assert_fits(page, live_server, f"/listings/{world['fixed']}")
    await page.click("#edit-listing > summary")
    assert await page.locator("#edit-form input[name=title]").is_visible()
    width, inner = await page.evaluate(OVERFLOW)
    assert width <= min(inner, PHONE["width"]), f"the listing page with the edit form open is {width} px wide"
    await ctx.close()

    ctx = await _context(browser, PHONE, is_mobile=True, has_touch=True)
    page = await ctx.new_page()
    await ui_login(page, live_server, ADMIN[0], ADMIN[1])
    for path in ["/admin/", "/admin/users", "/admin/listings", "/admin/categories", "/admin/disputes",
                 "/admin/cards", "/admin/blocks", "/admin/templates", "/admin/reports", "/admin/cache",
                 f"/admin/users/{world['buyer']['id']}/ledger"]:
        await _assert_fits(page, live_server, path)
    await ctx.close()


async def test_the_phone_home_page_shows_two_columns_and_items_near_the_top(
        live_server: LiveServer, browser: Any, world: dict[str, Any]) -> None:
    ctx = await _context(browser, PHONE, is_mobile=True, has_touch=True)
    page = await ctx.new_page()
    await page.goto(live_server.url("/"))
    drawer = page.locator("details.category-drawer")
    assert await drawer.get_attribute("open") is None
    assert not await page.locator("details.category-drawer .tree").first.is_visible()
    brand = await page.locator(".brand").bounding_box()
    menu = await page.locator(".account-menu").bounding_box()
    assert brand is not None
    assert menu is not None
    assert abs(brand["y"] - menu["y"]) < 20, (brand, menu)  # one header row, not two
    first = page.locator("main .grid .item-card").first
    box = await first.bounding_box()
    assert box is not None
    assert box["y"] < 844, f"the first item starts {box['y']} px down"
    columns = await page.eval_on_selector("main .grid", "g => getComputedStyle(g).gridTemplateColumns")
    assert len(columns.split()) == 2, columns  # two columns of cards
    widths = await page.eval_on_selector_all("main .grid .item-card", "els => els.map(e => e.offsetWidth)")
    assert all(140 < w < 195 for w in widths), widths
    await _shot(page, "home-390")
    await page.click("details.category-drawer > summary")
    assert await page.locator("details.category-drawer .tree").first.is_visible()
    await page.goto(live_server.url(f"/listings/{world['auction']}"))
    await _shot(page, "listing-390")
    await ctx.close()

    ctx = await _context(browser, PHONE, is_mobile=True, has_touch=True)
    page = await ctx.new_page()
    await ui_login(page, live_server, world["buyer"]["username"])
    await page.goto(live_server.url("/wallet"))
    await _shot(page, "wallet-390")
    await ctx.close()


async def test_local_times_at_1280(live_server: LiveServer, browser: Any, world: dict[str, Any]) -> None:
    # a signed-in user: their profile zone (default Asia/Shanghai), whatever the browser says
    ctx = await _context(browser, DESKTOP, timezone_id="Europe/Berlin")
    page = await ctx.new_page()
    await ui_login(page, live_server, world["buyer"]["username"])
    await page.goto(live_server.url(f"/listings/{world['auction']}"))
    ends = await page.inner_text("[data-field=ends_at]")
    assert LOCAL.fullmatch(ends), ends
    await page.goto(live_server.url("/my/purchases"))
    assert LOCAL.search(await page.inner_text("main"))
    await page.goto(live_server.url("/wallet"))
    assert LOCAL.search(await page.inner_text("main"))
    await _shot(page, "wallet-1280")
    assert "Times are shown in your time zone." in await page.inner_text("footer")
    assert "UTC." not in await page.inner_text("footer")
    await ctx.close()

    # an anonymous visitor in New York: the cards say how long is left; the listing page is in New York time,
    # on the first page (localised by static/js/localtime.js) and after it (the tz cookie)
    ctx = await _context(browser, DESKTOP, timezone_id="America/New_York")
    page = await ctx.new_page()
    await page.goto(live_server.url("/"))
    assert await page.locator("details.category-drawer .tree").first.is_visible()  # always open on a wide screen
    await _shot(page, "home-1280")
    await page.goto(live_server.url(f"/c/{world['category_slug']}"))
    card = page.locator(f"a.item-card[href='/listings/{world['auction']}']")
    assert re.search(r"\b2h 1\dm left\b", await card.inner_text()), await card.inner_text()
    await page.goto(live_server.url(f"/listings/{world['auction']}"))
    ends = await page.inner_text("main")
    assert re.search(r"\d\d-\d\d \d\d:\d\d \(UTC-[45]\)", ends), ends
    assert "(UTC+8)" not in ends
    await _shot(page, "listing-1280")
    cookies = {c["name"]: c["value"] for c in await ctx.cookies()}
    assert cookies.get("tz", "").replace("%2F", "/") == "America/New_York"
    await ctx.close()

    # settings: the user moves to Berlin and sees Berlin times
    ctx = await _context(browser, DESKTOP)
    page = await ctx.new_page()
    await ui_login(page, live_server, world["seller"]["username"])
    await page.goto(live_server.url("/account/settings"))
    await page.select_option("#time_zone", "Europe/Berlin")
    await page.click("#settings-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/account/settings"))
    assert "(UTC+1)" in await page.inner_text("#zone-now")
    await page.goto(live_server.url(f"/listings/{world['auction']}"))
    assert re.search(r"\(UTC\+1\)", await page.inner_text("[data-field=ends_at]"))
    await ctx.close()
