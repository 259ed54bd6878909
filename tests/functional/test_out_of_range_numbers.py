"""Numbers the database cannot hold (ids beyond 64 bits) are bad input: 4xx with a detail, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import api_user

HUGE = 36893488147419103231  # 2**65 - 1


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", f"/api/v1/listings/{HUGE}", None),
    ("GET", f"/api/v1/listings?seller_id={HUGE}", None),
    ("POST", f"/api/v1/orders/{HUGE}/cancel", None),
    ("POST", f"/api/v1/listings/{HUGE}/bids", {"max_amount": 10}),
    ("GET", f"/api/v1/wallet/topups/{HUGE}", None),
])
async def test_huge_ids_are_4xx(client: Any, method: str, path: str, body: Any) -> None:
    user = await api_user(client)
    r = await client.request(method, path, json=body, headers=user["headers"])
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
    assert r.json()["detail"]
    # and the app still works afterwards (the failed transaction was rolled back)
    assert (await client.get("/api/v1/me", headers=user["headers"])).status_code == 200


async def test_huge_id_on_an_html_page_is_a_4xx_page(client: Any) -> None:
    r = await client.get(f"/listings/{HUGE}")
    assert 400 <= r.status_code < 500
    assert "text/html" in r.headers["content-type"]
