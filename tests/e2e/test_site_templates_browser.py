"""An admin overrides the footer in the browser editor, publishes it, sees it on the home page, rolls back to the
earlier version, then reverts to the shipped template (docs/rules.md §18)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import ADMIN, LiveServer, ui_login


async def _save_and_publish(page: Any, server: LiveServer, source: str, version: int) -> None:
    await page.goto(server.url("/admin/templates/footer"))
    await page.fill("#template-source", source)
    await page.click("#save-draft")
    await page.wait_for_selector(f"tr[data-version='{version}']")
    await page.click(f"button[data-publish='{version}']")
    await page.wait_for_selector(f"tr[data-version='{version}'] .badge-ok")


async def test_publish_an_override_see_it_and_roll_back(live_server: LiveServer, page: Any) -> None:
    await ui_login(page, live_server, ADMIN[0], ADMIN[1])
    await page.goto(live_server.url("/admin/templates"))
    assert await page.locator("tr[data-template='footer']").count() == 1
    # the editor numbers its lines (static script, no inline JS)
    await page.goto(live_server.url("/admin/templates/footer"))
    assert "1\n2" in await page.inner_text(".line-numbers")

    await _save_and_publish(page, live_server, '<footer class="site-footer" id="e2e-footer">E2E footer v1</footer>', 1)
    await page.goto(live_server.url("/"))
    assert await page.inner_text("#e2e-footer") == "E2E footer v1"
    async with httpx.AsyncClient(timeout=10) as anonymous:  # anonymous visitors (the page cache) too
        assert "E2E footer v1" in (await anonymous.get(live_server.url("/"))).text

    await _save_and_publish(page, live_server, '<footer class="site-footer" id="e2e-footer">E2E footer v2</footer>', 2)
    await page.goto(live_server.url("/"))
    assert await page.inner_text("#e2e-footer") == "E2E footer v2"

    # roll back: publish v1 again
    await page.goto(live_server.url("/admin/templates/footer"))
    await page.click("button[data-publish='1']")
    await page.wait_for_selector("tr[data-version='1'] .badge-ok")
    await page.goto(live_server.url("/"))
    assert await page.inner_text("#e2e-footer") == "E2E footer v1"

    # revert to the shipped footer
    await page.goto(live_server.url("/admin/templates/footer"))
    await page.click("#revert")
    await page.wait_for_load_state()
    await page.goto(live_server.url("/"))
    assert await page.locator("#e2e-footer").count() == 0
    assert "Times are shown in your time zone." in await page.inner_text("footer")
