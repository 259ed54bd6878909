"""Small page fixes found by QA: a buy form with quantity 0 is refused (not bought as 1), "1 bid" on cards,
whole freeze days on the membership pages, the favicon link, the login redirect keeps the query string."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.orders.models import Order
from tests.factories import PASSWORD, html_login, html_post, make_listing, make_user

Sessions = async_sessionmaker[AsyncSession]


async def test_buy_form_quantity_zero_is_refused_and_blank_means_one(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        seller, buyer = await make_user(s), await make_user(s, coins=1_000)
        listing = await make_listing(s, seller, price=100, quantity=5)
        d = {"buyer": buyer.username, "buyer_id": buyer.id, "listing": listing.id}
    await html_login(client, d["buyer"])
    r = await html_post(client, f"/listings/{d['listing']}/buy", {"quantity": "0"})
    assert r.status_code == 400, r.text
    assert "quantity" in r.text.lower()
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Order).where(Order.buyer_id == d["buyer_id"])) == 0
    r = await html_post(client, f"/listings/{d['listing']}/buy", {"quantity": ""})
    assert r.status_code == 303, r.text
    async with sessions() as s:
        order = (await s.scalars(select(Order).where(Order.buyer_id == d["buyer_id"]))).one()
        assert order.quantity == 1


async def test_one_bid_is_singular_and_freeze_days_are_whole(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        seller, bidder = await make_user(s), await make_user(s, coins=1_000)
        listing = await make_listing(s, seller, mode="auction", title="Single bid lot", start_price=10)
        d = {"bidder": bidder.username, "listing": listing.id}
    await html_login(client, d["bidder"])
    r = await html_post(client, f"/listings/{d['listing']}/bid", {"max_amount": "20"})
    assert r.status_code == 303
    page = await client.get("/search", params={"q": "Single bid lot"})
    assert "1 bid ·" in page.text
    assert "1 bids" not in page.text
    assert '<link rel="icon" href="/static/img/favicon.svg"' in page.text
    assert (await client.get("/static/img/favicon.svg")).status_code == 200
    for path in ("/me/membership", "/help/membership"):
        page = await client.get(path)
        assert page.status_code == 200
        assert "unlock 7 days" in page.text or "7 days after" in page.text, path
        assert "7.0 days" not in page.text


async def test_login_redirect_keeps_the_query_string(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        user = await make_user(s)
        name = user.username
    r = await client.get("/watchlist", params={"page": "2"}, follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == "/login?next=/watchlist%3Fpage%3D2"
    page = await client.get(r.headers["location"])
    assert 'name="next" value="/watchlist?page=2"' in page.text
    r = await html_post(client, "/login", {"username": name, "password": PASSWORD, "next": "/watchlist?page=2"})
    assert r.status_code == 303
    assert r.headers["location"] == "/watchlist?page=2"
