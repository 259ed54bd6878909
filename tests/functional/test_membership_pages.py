"""Membership pages (HTML): /me/membership, the help page, points on the wallet, the buy form's points input
(a CSRF form answering 303, a refused redemption re-rendered with its error) and the order page's breakdown."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.db import utcnow
from marketplace.membership import services as membership
from marketplace.orders.models import Order
from marketplace.settings import Settings
from marketplace.wallet import ledger
from tests.factories import html_login, html_post, make_listing, make_user

Sessions = async_sessionmaker[AsyncSession]


async def seed(sessions: Sessions) -> dict[str, Any]:
    async with sessions() as s, s.begin():
        seller, buyer = await make_user(s), await make_user(s, coins=5_000)
        await membership.grant_points(s, buyer.id, 1_000, now=utcnow(), settings=Settings())
        listing = await make_listing(s, seller, price=300, quantity=3)
        listing.shipping_fee = 20
        return {"seller": seller.username, "buyer": buyer.username, "buyer_id": buyer.id, "listing": listing.id}


async def test_membership_page_and_help(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions)
    r = await client.get("/me/membership", follow_redirects=False)
    assert r.status_code in (302, 303, 401)
    await html_login(client, d["buyer"])
    r = await client.get("/me/membership")
    assert r.status_code == 200
    assert 'id="member-level">Registered<' in r.text
    assert 'id="points-available">1,000<' in r.text
    assert "progressbar" in r.text
    assert "points expire" in r.text
    r = await client.get("/help/membership")
    assert r.status_code == 200
    for text in ("J5", "10,001 – 80,000", "1,580", "124 points"):
        assert text in r.text
    r = await client.get("/wallet")
    assert 'id="wallet-points">1,000<' in r.text


async def test_buy_form_with_points_and_order_breakdown(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions)
    await html_login(client, d["buyer"])
    r = await client.get(f"/listings/{d['listing']}")
    assert r.status_code == 200
    assert 'name="points"' in r.text
    assert 'data-shipping="20"' in r.text
    assert "/static/js/buy.js" in r.text
    assert "<script>" not in r.text  # no inline scripts

    r = await html_post(client, f"/listings/{d['listing']}/buy", {"quantity": "1", "points": "75"})
    assert r.status_code == 400
    assert "multiples of 50" in r.text
    r = await html_post(client, f"/listings/{d['listing']}/buy", {"quantity": "1", "points": "1050"})
    assert r.status_code == 409  # more than the 1,000 available
    assert "Not enough points" in r.text
    async with sessions() as s:
        assert await ledger.balance(s, ledger.available(d["buyer_id"])) == 5_000

    r = await html_post(client, f"/listings/{d['listing']}/buy", {"quantity": "1", "points": "1000"})
    assert r.status_code == 303
    async with sessions() as s:
        order = await s.scalar(select(Order).where(Order.buyer_id == d["buyer_id"]))
        assert order is not None
        assert (order.items_total, order.shipping_fee, order.points_used, order.total) == (300, 20, 1_000, 300)
    r = await client.get(f"/orders/{order.id}")
    assert r.status_code == 200
    assert 'class="order-items-total">300 🪙<' in r.text
    assert 'class="order-shipping">20 🪙<' in r.text
    assert 'data-kind="points">−20 🪙<' in r.text
    assert 'class="order-points-used">1000 points<' in r.text
    assert 'class="order-total">300 🪙<' in r.text
    assert 'class="order-platform-paid">20 🪙' in r.text
    assert 'level-badge level-registered' in r.text
    # the seller sees the same breakdown
    client.cookies.clear()
    await html_login(client, d["seller"])
    r = await client.get(f"/orders/{order.id}")
    assert r.status_code == 200
    assert 'data-kind="points">−20 🪙<' in r.text
    r = await client.get("/my/sales")
    assert "level-badge level-registered" in r.text  # the buyer's level beside their name


async def test_sell_form_has_a_shipping_fee(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions)
    await html_login(client, d["seller"])
    r = await client.get("/sell")
    assert 'name="shipping_fee"' in r.text


async def test_feedback_photo_form(client: Any, sessions: Sessions) -> None:
    from marketplace.orders.services import FeedbackService, OrderService
    from tests.imagedata import png_bytes

    d = await seed(sessions)
    async with sessions() as s, s.begin():
        from marketplace.orders.services import buy_fixed

        order = await buy_fixed(s, Settings(), d["listing"], d["buyer_id"], 1)
        seller_id = order.seller_id
        await OrderService(s, Settings()).ship(order.id, seller_id)
        await OrderService(s, Settings()).confirm(order.id, d["buyer_id"])
        await FeedbackService(s).leave(order.id, d["buyer_id"], "positive", "lovely")
        oid = order.id
    await html_login(client, d["buyer"])
    r = await client.get(f"/orders/{oid}")
    assert f'action="/orders/{oid}/feedback/photo"' in r.text
    token = client.cookies.get("csrftoken")
    r = await client.post(f"/orders/{oid}/feedback/photo", data={"_csrf_token": token},
                          files={"file": ("p.png", png_bytes(), "image/png")}, follow_redirects=False)
    assert r.status_code == 303
    r = await client.get(f"/orders/{oid}")
    assert 'class="feedback-photo"' in r.text
    assert f'action="/orders/{oid}/feedback/photo"' not in r.text
    async with sessions() as s:
        assert await ledger.balance(s, ledger.points_available(d["buyer_id"])) == 1_000 + 20
