"""Issue 11 M1/M2 and L2: one visibility rule on every read and write path, no user ids in public payloads.

A listing in a hidden category, in a suspended shop or removed by an admin is 404 to everyone but its seller and
admins — its page, the API object, the bid history (API and page), the live channel's snapshot, search — and
nobody can bid on it or buy it (404, nothing changes). docs/rules.md §10.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest
import websockets
from litestar import Litestar
from sqlalchemy import func, select, update

from marketplace.accounts.models import User
from marketplace.auctions.models import Bid
from marketplace.categories.models import Category
from marketplace.db import utcnow
from marketplace.listings.models import Listing
from marketplace.orders.models import Order
from marketplace.shops.models import Shop
from marketplace.wallet import ledger
from tests.factories import api_admin, api_user, fund, html_login, html_post, make_listing
from tests.functional.test_auctions_live import recv, serve

API = "/api/v1"
CASES = ("hidden_category", "suspended_shop", "removed")
_slug = itertools.count(1)


async def _setup(client: Any, sessions: Any) -> dict[str, Any]:
    """An auction with one bid, an auction with Buy Now and no bids, a fixed-price listing (one seller, one
    category); a funded bidder; an admin."""
    seller = await api_user(client)
    bidder = await api_user(client)
    admin = await api_admin(client, sessions)
    async with sessions() as s, s.begin():
        await fund(s, bidder["id"], 10_000)
        owner = await s.get(User, seller["id"])
        assert owner is not None
        auction = await make_listing(s, owner, mode="auction", start_price=100, title="Hidden gem auction")
        category = await s.get(Category, auction.category_id)
        buy_now = await make_listing(s, owner, category, mode="auction", start_price=100, buy_now_price=500)
        fixed = await make_listing(s, owner, category, price=300, quantity=5)
        ids = {"auction": int(auction.id), "buy_now": int(buy_now.id), "fixed": int(fixed.id),
               "category": int(auction.category_id)}
    r = await client.post(f"{API}/listings/{ids['auction']}/bids", json={"max_amount": 200},
                          headers=bidder["headers"])
    assert r.status_code == 201
    return {"seller": seller, "bidder": bidder, "admin": admin, **ids}


async def _hide(sessions: Any, env: dict[str, Any], case: str) -> None:
    ids = [env["auction"], env["buy_now"], env["fixed"]]
    async with sessions() as s, s.begin():
        if case == "hidden_category":
            await s.execute(update(Category).where(Category.id == env["category"]).values(hidden=True))
        elif case == "suspended_shop":
            shop = Shop(owner_id=env["seller"]["id"], name="S", slug=f"suspended-{next(_slug)}", plan="basic",
                        status="suspended", paid_until=utcnow())
            s.add(shop)
            await s.flush()
            await s.execute(update(Listing).where(Listing.id.in_(ids)).values(shop_id=shop.id))
        else:
            await s.execute(update(Listing).where(Listing.id.in_(ids)).values(status="removed"))


async def _state(sessions: Any, env: dict[str, Any]) -> tuple[Any, ...]:
    async with sessions() as s:
        rows = (await s.execute(select(Listing.id, Listing.bid_count, Listing.current_price, Listing.status,
                                       Listing.quantity_available).order_by(Listing.id))).all()
        bids = await s.scalar(select(func.count()).select_from(Bid))
        orders = await s.scalar(select(func.count()).select_from(Order))
        wallet = await ledger.wallet_balances(s, env["bidder"]["id"])
    return tuple(map(tuple, rows)), bids, orders, wallet


@pytest.mark.parametrize("case", CASES)
async def test_a_hidden_listing_is_404_on_every_read_path(client: Any, sessions: Any, case: str) -> None:
    env = await _setup(client, sessions)
    lid = env["auction"]
    # before: everyone reads it
    assert len((await client.get(f"{API}/listings/{lid}/bids")).json()) == 1
    await _hide(sessions, env, case)
    for headers in ({}, env["bidder"]["headers"]):
        assert (await client.get(f"{API}/listings/{lid}", headers=headers)).status_code == 404
        # 404, not 200 [] — an empty list would also confirm which ids exist
        assert (await client.get(f"{API}/listings/{lid}/bids", headers=headers)).status_code == 404
        found = (await client.get(f"{API}/listings", params={"q": "Hidden gem"}, headers=headers)).json()
        assert found["total"] == 0
    assert (await client.get(f"/listings/{lid}")).status_code == 404
    assert (await client.get(f"/listings/{lid}/history")).status_code == 404
    assert (await client.get(f"/listings/{lid}/history?fragment=1")).status_code == 404
    assert "Hidden gem" not in (await client.get("/search?q=Hidden")).text
    # its seller and admins still see it
    for who in ("seller", "admin"):
        headers = env[who]["headers"]
        assert (await client.get(f"{API}/listings/{lid}", headers=headers)).status_code == 200
        r = await client.get(f"{API}/listings/{lid}/bids", headers=headers)
        assert r.status_code == 200
        assert len(r.json()) == 1
    await html_login(client, env["seller"]["username"])
    assert (await client.get(f"/listings/{lid}/history")).status_code == 200
    assert (await client.get(f"/listings/{lid}")).status_code == 200


@pytest.mark.parametrize("case", CASES)
async def test_a_hidden_listing_cannot_be_traded(client: Any, sessions: Any, case: str) -> None:
    env = await _setup(client, sessions)
    await _hide(sessions, env, case)
    before = await _state(sessions, env)
    headers = env["bidder"]["headers"]
    r = await client.post(f"{API}/listings/{env['auction']}/bids", json={"max_amount": 400}, headers=headers)
    assert r.status_code == 404
    r = await client.post(f"{API}/listings/{env['buy_now']}/buy", headers=headers)  # Buy Now
    assert r.status_code == 404
    r = await client.post(f"{API}/listings/{env['fixed']}/buy", json={"quantity": 1}, headers=headers)
    assert r.status_code == 404
    # the HTML forms too
    await html_login(client, env["bidder"]["username"])
    assert (await html_post(client, f"/listings/{env['auction']}/bid", {"max_amount": "400"})).status_code == 404
    assert (await html_post(client, f"/listings/{env['buy_now']}/buy", {})).status_code == 404
    assert (await html_post(client, f"/listings/{env['fixed']}/buy", {"quantity": "1"})).status_code == 404
    assert await _state(sessions, env) == before


@pytest.mark.parametrize("case", CASES)
async def test_the_live_channel_refuses_a_hidden_listing(app: Litestar, sessions: Any, case: str) -> None:
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        env = await _setup(http, sessions)
        await _hide(sessions, env, case)
        async with websockets.connect(f"ws://{host}/ws/listings/{env['auction']}") as ws:
            first = await recv(ws)
            assert first["type"] == "error"
            assert "current_price" not in first
            with pytest.raises(websockets.ConnectionClosed):
                await recv(ws)


async def test_no_user_ids_in_the_live_channel(app: Litestar, sessions: Any) -> None:
    """L2: the snapshot and the bid messages say ``you_lead`` for the watcher, never the leader's id."""
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        env = await _setup(http, sessions)
        lid, bidder = env["auction"], env["bidder"]
        await html_login(http, bidder["username"])  # the page's socket carries the session cookie
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        async with websockets.connect(f"ws://{host}/ws/listings/{lid}") as anon, \
                websockets.connect(f"ws://{host}/ws/listings/{lid}", additional_headers={"Cookie": cookie}) as mine:
            snap, my_snap = await recv(anon), await recv(mine)
            assert snap["type"] == my_snap["type"] == "snapshot"
            assert "leader_id" not in snap
            assert "leader_id" not in my_snap
            assert (snap["you_lead"], my_snap["you_lead"]) == (False, True)
            other = await api_user(http)
            async with sessions() as s, s.begin():
                await fund(s, other["id"], 10_000)
            r = await http.post(f"{API}/listings/{lid}/bids", json={"max_amount": 900}, headers=other["headers"])
            assert r.status_code == 201
            msg, my_msg = await recv(anon), await recv(mine)
            assert msg["type"] == my_msg["type"] == "bid"
            assert "leader_id" not in msg
            assert "leader_id" not in my_msg
            assert (msg["you_lead"], my_msg["you_lead"]) == (False, False)  # the bidder was outbid


async def test_the_listing_page_carries_no_leader_id(client: Any, sessions: Any) -> None:
    env = await _setup(client, sessions)
    page = await client.get(f"/listings/{env['auction']}")
    assert page.status_code == 200
    assert "data-leader-id" not in page.text
    assert 'data-you-lead="false"' in page.text
    await html_login(client, env["bidder"]["username"])
    assert 'data-you-lead="true"' in (await client.get(f"/listings/{env['auction']}")).text


@pytest.mark.parametrize("raw", ["²", "1²", pytest.param("9" * 5000, id="5000-digits"), "١٢"])
async def test_bid_buy_and_sell_forms_refuse_odd_numbers_with_400(client: Any, sessions: Any, raw: str) -> None:
    """L1: the bid, buy and sell forms parse with marketplace/numbers.py (a 500 before)."""
    env = await _setup(client, sessions)
    before = await _state(sessions, env)
    await html_login(client, env["bidder"]["username"])
    r = await html_post(client, f"/listings/{env['auction']}/bid", {"max_amount": raw},
                        headers={"Accept": "application/json"})
    assert r.status_code == 400
    r = await html_post(client, f"/listings/{env['fixed']}/buy", {"quantity": raw})
    assert r.status_code == 400
    r = await html_post(client, "/sell", {"title": "Odd", "description": "", "mode": "fixed", "price": raw,
                                          "quantity": "1", "category_id": str(env["category"])})
    assert r.status_code == 400
    assert await _state(sessions, env) == before
