"""In Chromium at 390 px: the seller edits a listing through its page and the edit history shows; the photo
lightbox opens, steps with the arrow keys and closes with Esc (docs/rules.md §19.7)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx

from tests.e2e.conftest import LiveServer, ui_login
from tests.e2e.test_listings_browser import fund, leaf_category
from tests.imagedata import png_bytes


async def test_seller_edits_a_listing_history_shows_and_the_lightbox_works(live_server: LiveServer,
                                                                          browser: Any) -> None:
    category_id, _ = await leaf_category(live_server)
    seller = live_server.register()
    await fund(live_server, seller["id"], 100)
    token = secrets.token_hex(3)
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        r = await c.post("/api/v1/listings", headers=seller["headers"], json={
            "title": f"Lens {token}", "category_id": category_id, "mode": "fixed", "price": 120,
            "condition": "used", "location": "上海 浦东"})
        assert r.status_code == 201, r.text
        listing_id = r.json()["id"]
        for colour in ((200, 40, 40), (40, 40, 200)):
            r = await c.post(f"/api/v1/listings/{listing_id}/images", headers=seller["headers"],
                             files={"file": ("p.png", png_bytes(640, 480, colour), "image/png")})
            assert r.status_code == 201, r.text

    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await ui_login(page, live_server, seller["username"])
    await page.goto(live_server.url(f"/listings/{listing_id}"))
    assert await page.locator("#edit-history").count() == 0

    await page.click("#edit-listing summary")
    await page.fill("#edit-form input[name=title]", f"Lens {token} 50mm f/1.8")
    await page.select_option("#edit-form select[name=condition]", "like_new")
    await page.fill("#edit-form input[name=price]", "110")
    await page.click("#edit-form button[type=submit]")
    await page.wait_for_url(re.compile(rf"/listings/{listing_id}$"))
    assert "Listing updated" in await page.inner_text(".flashes")
    assert f"Lens {token} 50mm f/1.8" in await page.inner_text("h1")
    assert "Like new" in await page.inner_text(".listing-condition")
    summary = page.locator("#edit-history summary")
    assert (await summary.inner_text()).strip() == "edited 1 time"
    await summary.click()
    history = await page.inner_text("#edit-history ol")
    assert "Title" in history
    assert "Used → Like new" in history  # condition values read as their labels
    assert f"Lens {token} 50mm f/1.8" in history
    assert "Price" in history
    assert "120" in history
    assert "110" in history

    # the lightbox: opens on the main photo, arrows step, Esc closes
    await page.click("#gallery-main-link")
    box = page.locator("#lightbox")
    await box.wait_for(state="visible")
    assert (await page.inner_text(".lightbox-count")).strip() == "1 / 2"
    width = await page.evaluate("document.querySelector('.lightbox-img').getBoundingClientRect().width")
    assert 0 < width <= 390
    await page.keyboard.press("ArrowRight")
    assert (await page.inner_text(".lightbox-count")).strip() == "2 / 2"
    await page.keyboard.press("ArrowLeft")
    assert (await page.inner_text(".lightbox-count")).strip() == "1 / 2"
    await page.keyboard.press("Escape")
    await box.wait_for(state="hidden")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    await context.close()
