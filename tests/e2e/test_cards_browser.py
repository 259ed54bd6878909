"""Prepaid cards in a real Chromium: a second admin activates a batch on /admin/cards, then a user redeems a card
from the wallet page's link and sees the coins arrive (docs/rules.md §17)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer, ui_login

pytestmark = [pytest.mark.e2e]


def second_admin(server: LiveServer) -> dict[str, Any]:
    checker = server.register()
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        r = c.patch(f"/api/v1/admin/users/{checker['id']}", headers=server.admin_headers(), json={"is_admin": True})
        assert r.status_code == 200, r.text
    return checker


async def test_checker_activates_and_user_redeems_a_card(live_server: LiveServer, page: Any,
                                                         browser: Any) -> None:
    maker = live_server.admin_headers()
    checker = second_admin(live_server)
    expires = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        r = await c.post("/api/v1/admin/card-batches", headers=maker,
                         json={"face_value": 350, "count": 2, "expires_on": expires, "note": "e2e batch"})
        assert r.status_code == 201, r.text
        batch_id = r.json()["id"]
        r = await c.get(f"/api/v1/admin/card-batches/{batch_id}/export", headers=maker)
        assert r.status_code == 200, r.text
        rows = list(csv.DictReader(io.StringIO(r.text)))

    # The checker activates the batch on the admin page (开通/复核).
    context = await browser.new_context()
    admin_page = await context.new_page()
    admin_page.set_default_timeout(10_000)
    try:
        await ui_login(admin_page, live_server, checker["username"], checker["password"])
        await admin_page.goto(live_server.url("/admin/"))
        await admin_page.get_by_role("link", name="Prepaid cards").click()
        await admin_page.wait_for_url(live_server.url("/admin/cards"))
        row = admin_page.locator(f"#batch-{batch_id}")
        await row.get_by_role("button", name="Activate").click()
        await admin_page.wait_for_url(live_server.url("/admin/cards"))
        assert "activated" in await admin_page.inner_text(".flashes")
        assert "activated" in await admin_page.locator(f"#batch-{batch_id}").inner_text()
    finally:
        await context.close()

    # A user redeems a card from the wallet page: a typo first, then the right secret typed in lower case.
    user = live_server.register()
    await ui_login(page, live_server, user["username"])
    await page.goto(live_server.url("/wallet"))
    await page.locator("#redeem-card-link").click()
    await page.wait_for_url(live_server.url("/cards/redeem"))
    await page.fill("input[name=number]", rows[0]["number"])
    await page.fill("input[name=secret]", "ABCDEFGHJKMNPQRS")
    await page.get_by_role("button", name="Redeem").click()
    assert "Invalid card number or secret." in await page.inner_text(".form-error")
    await page.fill("input[name=number]", " ".join(rows[0]["number"][i:i + 4] for i in range(0, 16, 4)))
    await page.fill("input[name=secret]", rows[0]["secret"].lower())
    await page.get_by_role("button", name="Redeem").click()
    await page.wait_for_url(live_server.url("/cards/redeem"))
    assert "350 coins were added" in await page.inner_text(".flashes")
    await page.goto(live_server.url("/wallet"))
    assert await page.get_attribute("#wallet-available", "data-coins") == "350"

    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        r = await c.get(f"/api/v1/admin/card-batches/{batch_id}", headers=maker)
        assert (r.json()["redeemed"], r.json()["new"]) == (1, 1)
