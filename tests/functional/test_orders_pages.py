"""The order pages (HTML): lists, actions as CSRF-protected forms answering 303 with a flash, timeline, disputes."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.orders.models import Order
from marketplace.wallet import ledger
from tests.factories import html_login, html_post, make_order, make_user

Sessions = async_sessionmaker[AsyncSession]


async def seed(sessions: Sessions, **kw: Any) -> dict[str, Any]:
    async with sessions() as s, s.begin():
        seller, buyer, stranger = await make_user(s), await make_user(s, coins=500), await make_user(s)
        admin = await make_user(s, is_admin=True)
        order = await make_order(s, seller=seller, buyer=buyer, price=120, **kw)
        return {"seller": seller.username, "buyer": buyer.username, "stranger": stranger.username,
                "admin": admin.username, "order": order.id, "seller_id": seller.id, "buyer_id": buyer.id}


async def status_of(sessions: Sessions, order_id: int) -> str:
    async with sessions() as s:
        order = await s.get(Order, order_id)
        assert order is not None
        return order.status


def forms(html: str) -> list[str]:
    return re.findall(r'<form[^>]*action="([^"]+)"', html)


async def test_pages_need_login(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions)
    for path in ("/my/purchases", "/my/sales", f"/orders/{d['order']}", "/admin/disputes"):
        r = await client.get(path, follow_redirects=False)
        assert r.status_code == 302, path
        assert r.headers["location"].startswith("/login")


async def test_ship_confirm_feedback_through_the_forms(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions)
    oid = d["order"]
    await html_login(client, d["seller"])
    page = await client.get("/my/sales")
    assert page.status_code == 200
    assert f"/orders/{oid}/ship" in forms(page.text)
    assert f"/orders/{oid}/cancel" in forms(page.text)
    assert 'name="_csrf_token"' in page.text
    assert "order-status-paid" in page.text

    r = await client.post(f"/orders/{oid}/ship", data={"tracking": "SF1"}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    assert await status_of(sessions, oid) == "paid"
    r = await html_post(client, f"/orders/{oid}/ship", {"tracking": "SF-778", "next": "/my/sales"})
    assert r.status_code == 303
    assert r.headers["location"] == "/my/sales"
    page = await client.get("/my/sales")
    assert "Marked as shipped" in page.text
    assert "SF-778" in page.text
    assert f"/orders/{oid}/ship" not in forms(page.text)
    # shipping twice: a 409 becomes an error flash on the same page
    r = await html_post(client, f"/orders/{oid}/ship", {"next": "//evil.example"})
    assert (r.status_code, r.headers["location"]) == (303, f"/orders/{oid}")
    assert "Cannot ship an order that is shipped" in (await client.get(f"/orders/{oid}")).text

    await html_login(client, d["buyer"])
    page = await client.get("/my/purchases")
    assert f"/orders/{oid}/confirm" in forms(page.text)
    assert f"/orders/{oid}/dispute" in forms(page.text)
    assert "Auto-confirms" in page.text
    r = await html_post(client, f"/orders/{oid}/confirm", {"next": "/my/purchases"})
    assert r.status_code == 303
    assert await status_of(sessions, oid) == "completed"
    page = await client.get("/my/purchases")
    assert "the seller has been paid" in page.text
    assert f"/orders/{oid}/feedback" in forms(page.text)
    r = await html_post(client, f"/orders/{oid}/feedback", {"rating": "positive", "comment": "Lovely 很好"})
    assert r.status_code == 303
    assert f"/orders/{oid}/feedback" not in forms((await client.get("/my/purchases")).text)
    r = await html_post(client, f"/orders/{oid}/feedback", {"rating": "positive", "comment": "again"})
    assert r.status_code == 303
    assert "already left feedback" in (await client.get(f"/orders/{oid}")).text

    await html_login(client, d["seller"])
    r = await html_post(client, f"/orders/{oid}/feedback", {"rating": "neutral", "comment": "ok buyer"})
    assert r.status_code == 303
    detail = (await client.get(f"/orders/{oid}")).text
    for text in ("Timeline", "Paid", "Shipped", "Completed", "SF-778", "Lovely 很好", "ok buyer", "fee"):
        assert text in detail, text
    profile = (await client.get(f"/users/{d['seller']}")).text
    assert "Feedback score 1" in profile
    assert "Lovely 很好" in profile
    async with sessions() as s:
        assert (await ledger.wallet_balances(s, d["seller_id"]))[0] == 114  # 120 − 6


async def test_cancel_through_the_form_refunds(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions)
    await html_login(client, d["buyer"])
    r = await html_post(client, f"/orders/{d['order']}/cancel", {"next": "/my/purchases"})
    assert r.status_code == 303
    page = await client.get("/my/purchases")
    assert "Order cancelled" in page.text
    assert "order-status-cancelled" in page.text
    async with sessions() as s:
        assert (await ledger.wallet_balances(s, d["buyer_id"]))[0] == 500
    assert "order-status-cancelled" in (await client.get("/my/purchases?status=cancelled")).text
    assert "No purchases yet" in (await client.get("/my/purchases?status=paid")).text


async def test_strangers_get_404_and_wrong_party_403(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions)
    await html_login(client, d["stranger"])
    assert (await client.get(f"/orders/{d['order']}")).status_code == 404
    assert (await html_post(client, f"/orders/{d['order']}/cancel", {})).status_code == 403
    await html_login(client, d["buyer"])
    assert (await html_post(client, f"/orders/{d['order']}/ship", {})).status_code == 403
    assert await status_of(sessions, d["order"]) == "paid"


async def test_dispute_and_the_admin_queue(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions)
    oid = d["order"]
    await html_login(client, d["seller"])
    await html_post(client, f"/orders/{oid}/ship", {})
    await html_login(client, d["buyer"])
    r = await html_post(client, f"/orders/{oid}/dispute", {"reason": ""})
    assert r.status_code == 303
    assert await status_of(sessions, oid) == "shipped"  # a reason is required
    r = await html_post(client, f"/orders/{oid}/dispute", {"reason": "Box was empty"})
    assert r.status_code == 303
    assert await status_of(sessions, oid) == "disputed"
    assert (await client.get("/admin/disputes")).status_code == 403
    assert (await html_post(client, f"/admin/orders/{oid}/resolve", {"outcome": "refund"})).status_code == 403

    await html_login(client, d["admin"])
    page = await client.get("/admin/disputes")
    assert page.status_code == 200
    assert "Box was empty" in page.text
    assert f"/admin/orders/{oid}/resolve" in forms(page.text)
    assert (await client.get(f"/orders/{oid}")).status_code == 200  # admins may look
    r = await html_post(client, f"/admin/orders/{oid}/resolve", {"outcome": "refund"})
    assert (r.status_code, r.headers["location"]) == (303, "/admin/disputes")
    page = await client.get("/admin/disputes")
    assert "refunded to the buyer" in page.text
    assert "No open disputes" in page.text
    assert await status_of(sessions, oid) == "refunded"
    async with sessions() as s:
        assert (await ledger.wallet_balances(s, d["buyer_id"]))[0] == 500
