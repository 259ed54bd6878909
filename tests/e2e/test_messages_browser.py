"""docs/rules.md §19.2, §19.5 in Chromium: a buyer asks a question in one browser, the seller answers in another,
and the answer shows on the listing page; after the winner cancels, the seller makes a second-chance offer and
the runner-up accepts it from "My bids"."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx

from tests.e2e.conftest import LiveServer, ui_login
from tests.factories import unique


def _category(server: LiveServer) -> int:
    admin = server.admin_headers()
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        root = c.post("/api/v1/admin/categories", headers=admin, json={"name": unique("Msg "), "parent_id": None})
        leaf = c.post("/api/v1/admin/categories", headers=admin, json={"name": "Coins", "parent_id": root.json()["id"]})
        return int(leaf.json()["id"])


def _list(server: LiveServer, seller: dict[str, Any], **draft: Any) -> int:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        r = c.post("/api/v1/listings", headers=seller["headers"],
                   json={"description": "A coin.", "category_id": _category(server), **draft})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


async def test_question_asked_in_one_browser_answered_in_another(live_server: LiveServer, browser: Any) -> None:
    seller, buyer = live_server.register(), live_server.register()
    live_server.fund(seller["id"], 10)
    listing_id = _list(live_server, seller, title="Silver dragon dollar 龙洋", mode="fixed", price=300, quantity=1)
    url = live_server.url(f"/listings/{listing_id}")

    buyer_ctx, seller_ctx = await browser.new_context(), await browser.new_context()
    buyer_page, seller_page = await buyer_ctx.new_page(), await seller_ctx.new_page()
    for p in (buyer_page, seller_page):
        p.set_default_timeout(10_000)
    await ui_login(buyer_page, live_server, buyer["username"])
    await ui_login(seller_page, live_server, seller["username"])

    await buyer_page.goto(url)
    await buyer_page.fill(".qa-ask-form textarea[name=body]", "Is the edge reeded or plain?")
    await buyer_page.click(".qa-ask-form button[type=submit]")
    await buyer_page.wait_for_selector(".qa-item.qa-unanswered")
    assert "Is the edge reeded or plain?" in await buyer_page.inner_text("#questions")

    await seller_page.goto(url)
    await seller_page.fill(".qa-answer-form textarea[name=answer]", "Reeded, all the way round.")
    await seller_page.click(".qa-answer-form button[type=submit]")
    await seller_page.wait_for_selector(".qa-answer")

    await buyer_page.goto(url)
    qa = await buyer_page.inner_text("#questions")
    assert "Is the edge reeded or plain?" in qa
    assert "Reeded, all the way round." in qa
    await buyer_ctx.close()
    await seller_ctx.close()

    # an anonymous visitor sees the answered question too
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        assert "Reeded, all the way round." in (await c.get(f"/listings/{listing_id}")).text
        inbox = (await c.get("/api/v1/notifications", headers=buyer["headers"])).json()
        assert "question_answered" in str(inbox)


async def test_second_chance_offer_accepted_by_the_runner_up(live_server: LiveServer, browser: Any) -> None:
    seller, winner, runner = live_server.register(), live_server.register(), live_server.register()
    live_server.fund(seller["id"], 10)
    live_server.fund(winner["id"], 1000)
    live_server.fund(runner["id"], 1000)
    listing_id = _list(live_server, seller, title="Panda gold 熊猫金币", mode="auction", start_price=50,
                       duration_seconds=60, auto_extend=False)
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        for who, amount in ((runner, 80), (winner, 120)):
            r = await c.post(f"/api/v1/listings/{listing_id}/bids", headers=who["headers"], json={"max_amount": amount})
            assert r.status_code == 201, r.text
        deadline = time.monotonic() + 120  # the 60-second auction closes, then the winner has an order
        orders: list[Any] = []
        while time.monotonic() < deadline:
            orders = (await c.get("/api/v1/orders", params={"role": "buyer"},
                                  headers=winner["headers"])).json()["items"]
            if orders:
                break
            await asyncio.sleep(1)
        assert orders, "the auction did not close"
        oid = orders[0]["id"]
        r = await c.post(f"/api/v1/orders/{oid}/cancel", headers=winner["headers"],
                         json={"reason": "Bought one elsewhere", "confirm": True})
        assert r.status_code == 200, r.text

    seller_ctx = await browser.new_context()
    page = await seller_ctx.new_page()
    page.set_default_timeout(10_000)
    await ui_login(page, live_server, seller["username"])
    await page.goto(live_server.url(f"/orders/{oid}"))
    await page.click("#second-chance-btn")
    await page.wait_for_url(re.compile(rf"/orders/{oid}"))
    await seller_ctx.close()

    runner_ctx = await browser.new_context()
    page = await runner_ctx.new_page()
    page.set_default_timeout(10_000)
    await ui_login(page, live_server, runner["username"])
    await page.goto(live_server.url("/my/bids"))
    offer = await page.inner_text("#second-chance-offers")
    assert "Panda gold" in offer
    await page.click("#second-chance-offers form[action$='/accept'] button")
    await page.wait_for_url(re.compile(r"/orders/\d+"))
    await runner_ctx.close()

    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        mine = (await c.get("/api/v1/orders", params={"role": "buyer"}, headers=runner["headers"])).json()["items"]
        assert [(o["source"], o["total"]) for o in mine] == [("second_chance", 80)]
        assert (await c.get("/api/v1/me", headers=runner["headers"])).json()["wallet"]["available"] == 920
