"""Foundation in a real Chromium: register and log in through the forms, browse the category tree, and an admin
building the tree from the admin page."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import ADMIN, LiveServer, ui_login
from tests.factories import PASSWORD, unique


async def test_register_log_out_log_in_and_browse(live_server: LiveServer, page: Any) -> None:
    root_name = unique("Browse Root ")
    headers = live_server.admin_headers()
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        r = await c.post("/api/v1/admin/categories", json={"name": root_name, "parent_id": None}, headers=headers)
        assert r.status_code == 201, r.text
        root = r.json()

    username = unique("e2e_reg")
    await page.goto(live_server.url("/register"))
    await page.fill("input[name=username]", username)
    await page.fill("input[name=email]", f"{username}@example.com")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form[action='/register'] button[type=submit]")
    await page.wait_for_url(live_server.url("/"))
    assert username in await page.inner_text("header")

    await page.click("header details.dropdown summary")
    await page.click("form[action='/logout'] button")
    await page.wait_for_load_state()
    assert username not in await page.inner_text("header")

    await ui_login(page, live_server, username)
    assert username in await page.inner_text("header")

    await page.goto(live_server.url("/categories"))
    link = page.locator(".category-browse a", has_text=root_name)
    assert await link.get_attribute("href") == f"/c/{root['slug']}"
    await link.click()
    await page.wait_for_url(live_server.url(f"/c/{root['slug']}"))


async def test_admin_creates_a_sub_category_through_the_admin_page(live_server: LiveServer, page: Any) -> None:
    parent_name, child_name = unique("Admin Root "), unique("Admin Child ")
    await ui_login(page, live_server, ADMIN[0], ADMIN[1])
    await page.goto(live_server.url("/admin/categories"))
    await page.fill("#create-root input[name=name]", parent_name)
    await page.click("#create-root button[type=submit]")
    await page.wait_for_url(live_server.url("/admin/categories"))
    assert f"Created “{parent_name}”" in await page.inner_text(".flashes")

    node = page.locator("li.admin-cat", has=page.locator(".cat-name", has_text=parent_name))
    await node.locator("summary").click()
    await node.locator("input[placeholder='New sub-category']").fill(child_name)
    await node.get_by_role("button", name="Add sub-category").click()
    await page.wait_for_url(live_server.url("/admin/categories"))
    assert f"Created “{child_name}”" in await page.inner_text(".flashes")

    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        roots = (await c.get("/api/v1/categories")).json()
    parent = next(n for n in roots if n["name"] == parent_name)
    assert [ch["name"] for ch in parent["children"]] == [child_name]

    # a refused action shows its error and changes nothing
    node = page.locator("li.admin-cat", has=page.locator(".cat-name", has_text=parent_name))
    await node.locator("summary").click()
    await node.locator("input[placeholder='New sub-category']").fill(child_name.upper())
    await node.get_by_role("button", name="Add sub-category").click()
    await page.wait_for_url(live_server.url("/admin/categories"))
    assert "already exists" in await page.inner_text(".flash-error")


async def test_a_plain_user_is_refused_the_admin_page(live_server: LiveServer, page: Any) -> None:
    user = live_server.register()
    await ui_login(page, live_server, user["username"])
    response = await page.goto(live_server.url("/admin/categories"))
    assert response.status == 403
