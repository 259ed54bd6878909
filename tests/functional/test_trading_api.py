"""docs/rules.md §19 through the HTTP layer on PostgreSQL: addresses, checkout with Idempotency-Key, the
non-paying winner policy (strikes, bidding block, second-chance offer, relist), the order's address."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.auctions.services import BidService
from marketplace.db import utcnow
from marketplace.orders.models import Order, Strike
from marketplace.settings import Settings
from tests.factories import api_user, fund, make_listing, make_order

API = "/api/v1"
Sessions = async_sessionmaker[AsyncSession]
ADDRESS = {"name": "张三", "phone": "138 0013 8000", "province": "广东省", "city": "深圳市", "district": "南山区",
           "detail": "科技园路 1 号"}


async def add_address(client: Any, who: dict[str, Any], **extra: Any) -> dict[str, Any]:
    r = await client.post(f"{API}/me/addresses", json={**ADDRESS, **extra}, headers=who["headers"])
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_address_book_crud_and_errors(client: Any) -> None:
    me, other = await api_user(client), await api_user(client)
    assert (await client.get(f"{API}/me/addresses")).status_code == 401
    first = await add_address(client, me)
    assert first["phone"] == "13800138000"
    assert first["is_default"] is True  # the first one is the default
    second = await add_address(client, me, name="李四", is_default=True)
    rows = (await client.get(f"{API}/me/addresses", headers=me["headers"])).json()
    assert [a["id"] for a in rows] == [second["id"], first["id"]]
    assert [a["is_default"] for a in rows] == [True, False]
    for bad in ({"phone": "12800138000"}, {"phone": "1380013800"}, {"province": ""}, {"detail": "x" * 201}):
        r = await client.post(f"{API}/me/addresses", json={**ADDRESS, **bad}, headers=me["headers"])
        assert r.status_code == 400, bad
        assert r.json()["detail"]
    r = await client.patch(f"{API}/me/addresses/{first['id']}", json={"city": "广州市"}, headers=me["headers"])
    assert r.status_code == 200
    assert r.json()["city"] == "广州市"
    assert (await client.patch(f"{API}/me/addresses/{first['id']}", json={"phone": "123"},
                               headers=me["headers"])).status_code == 400
    # someone else's address is not found
    assert (await client.patch(f"{API}/me/addresses/{first['id']}", json={"city": "x"},
                               headers=other["headers"])).status_code == 404
    assert (await client.delete(f"{API}/me/addresses/{first['id']}", headers=other["headers"])).status_code == 404
    assert (await client.delete(f"{API}/me/addresses/{first['id']}", headers=me["headers"])).status_code == 204
    assert len((await client.get(f"{API}/me/addresses", headers=me["headers"])).json()) == 1


async def _fixed(sessions: Sessions, seller_id: int, price: int = 100, quantity: int = 5) -> int:
    async with sessions() as s, s.begin():
        listing = await make_listing(s, await s.get(User, seller_id), price=price, quantity=quantity)
        return int(listing.id)


async def test_buy_with_idempotency_key_replays_and_snapshots_address(client: Any, sessions: Sessions) -> None:
    seller, buyer = await api_user(client), await api_user(client)
    lid = await _fixed(sessions, seller["id"])
    async with sessions() as s, s.begin():
        await fund(s, buyer["id"], 1000)
    home = await add_address(client, buyer)
    headers = {**buyer["headers"], "Idempotency-Key": "buy-key-000001"}
    r1 = await client.post(f"{API}/listings/{lid}/buy", json={"quantity": 1, "address_id": home["id"]},
                           headers=headers)
    assert r1.status_code == 201, r1.text
    r2 = await client.post(f"{API}/listings/{lid}/buy", json={"quantity": 1, "address_id": home["id"]},
                           headers=headers)
    assert r2.status_code == 201
    assert r2.json() == r1.json()
    # two quick identical POSTs: one order
    h3 = {**buyer["headers"], "Idempotency-Key": "buy-key-000002"}
    both = await asyncio.gather(*(client.post(f"{API}/listings/{lid}/buy", json={}, headers=h3) for _ in range(2)))
    assert [r.status_code for r in both] == [201, 201]
    assert both[0].json()["id"] == both[1].json()["id"]
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Order).where(Order.buyer_id == buyer["id"])) == 2
    assert (await client.get(f"{API}/me", headers=buyer["headers"])).json()["wallet"]["available"] == 800
    order = r1.json()
    assert order["source"] == "purchase"
    assert order["shipping_address"]["phone"] == "13800138000"
    # the seller sees it while the order is open; a stranger cannot see the order at all
    seen = (await client.get(f"{API}/orders/{order['id']}", headers=seller["headers"])).json()
    assert seen["shipping_address"]["city"] == "深圳市"
    # a malformed key, someone else's address
    bad = await client.post(f"{API}/listings/{lid}/buy", json={}, headers={**buyer["headers"],
                                                                          "Idempotency-Key": "no"})
    assert bad.status_code == 400
    other = await api_user(client)
    theirs = await add_address(client, other)
    r = await client.post(f"{API}/listings/{lid}/buy", json={"address_id": theirs["id"]}, headers=buyer["headers"])
    assert r.status_code == 404
    # once completed, the seller no longer sees the address; the buyer still does
    oid = order["id"]
    assert (await client.post(f"{API}/orders/{oid}/ship", headers=seller["headers"])).status_code == 200
    assert (await client.post(f"{API}/orders/{oid}/confirm", headers=buyer["headers"])).status_code == 200
    assert (await client.get(f"{API}/orders/{oid}", headers=seller["headers"])).json()["shipping_address"] is None
    assert (await client.get(f"{API}/orders/{oid}", headers=buyer["headers"])).json()["shipping_address"]


async def test_set_address_on_order(client: Any, sessions: Sessions) -> None:
    seller, buyer = await api_user(client), await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, buyer["id"], 100)
        order = await make_order(s, seller=await s.get(User, seller["id"]), buyer=await s.get(User, buyer["id"]))
        oid = order.id
    home = await add_address(client, buyer)
    url = f"{API}/orders/{oid}/address"
    assert (await client.post(url, json={"address_id": home["id"]}, headers=seller["headers"])).status_code == 403
    assert (await client.post(url, json={"address_id": 999999}, headers=buyer["headers"])).status_code == 404
    r = await client.post(url, json={"address_id": home["id"]}, headers=buyer["headers"])
    assert r.status_code == 200
    assert r.json()["shipping_address"]["name"] == "张三"
    assert (await client.post(f"{API}/orders/{oid}/ship", headers=seller["headers"])).status_code == 200
    assert (await client.post(url, json={"address_id": home["id"]}, headers=buyer["headers"])).status_code == 409


async def won_auction(sessions: Sessions, settings: Settings, seller_id: int, winner_id: int,
                      runner_id: int | None = None) -> int:
    """An auction with a runner-up maximum of 80 and a winner at 150, closed: the winner's order id."""
    async with sessions() as s, s.begin():
        listing = await make_listing(s, await s.get(User, seller_id), mode="auction", start_price=10,
                                     duration_seconds=3600)
        lid = listing.id
        now = utcnow()
        bids = BidService(s, settings)
        if runner_id is not None:
            await bids.place_bid(lid, runner_id, 80, now)
        await bids.place_bid(lid, winner_id, 150, now)
        result = await bids.close(lid, now + timedelta(hours=2))
        assert result.order is not None
        return int(result.order.id)


async def test_cancelling_a_won_auction_needs_reason_and_confirm_then_strikes(client: Any, sessions: Sessions,
                                                                             settings: Settings) -> None:
    seller, winner, runner = await api_user(client), await api_user(client), await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, winner["id"], 1000)
        await fund(s, runner["id"], 1000)
    oid = await won_auction(sessions, settings, seller["id"], winner["id"], runner["id"])
    url = f"{API}/orders/{oid}/cancel"
    r = await client.post(url, headers=winner["headers"])
    assert r.status_code == 400
    assert "reason" in r.json()["detail"]
    r = await client.post(url, json={"reason": "changed my mind"}, headers=winner["headers"])
    assert r.status_code == 400
    assert "confirm" in r.json()["detail"]
    r = await client.post(url, json={"reason": "changed my mind", "confirm": True}, headers=winner["headers"])
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["source"], r.json()["cancel_reason"]) == ("cancelled", "auction",
                                                                                 "changed my mind")
    strikes = (await client.get(f"{API}/users/{winner['id']}/strikes")).json()
    assert (strikes["buyer"], strikes["seller"]) == (1, 0)
    assert (await client.get(f"{API}/users/999999/strikes")).status_code == 404
    # feedback stays possible on the cancelled order
    r = await client.post(f"{API}/orders/{oid}/feedback", json={"rating": "negative", "comment": "did not pay"},
                          headers=seller["headers"])
    assert r.status_code == 201

    # second chance: only the seller; the runner-up at their maximum
    sc = f"{API}/orders/{oid}/second-chance"
    assert (await client.post(sc, headers=winner["headers"])).status_code == 404
    r = await client.post(sc, headers=seller["headers"])
    assert r.status_code == 201, r.text
    offer = r.json()
    assert (offer["buyer_id"], offer["price"], offer["status"]) == (runner["id"], 80, "offered")
    assert (await client.post(sc, headers=seller["headers"])).status_code == 409
    assert (await client.post(f"{API}/orders/{oid}/relist", headers=seller["headers"])).status_code == 403
    inbox = (await client.get(f"{API}/notifications", headers=runner["headers"])).json()
    assert "second_chance_offer" in str(inbox)  # pushed through the notifications package (an auctions event)
    mine = (await client.get(f"{API}/me/second-chance-offers", headers=runner["headers"])).json()
    assert [o["id"] for o in mine] == [offer["id"]]
    acc = f"{API}/second-chance-offers/{offer['id']}/accept"
    assert (await client.post(acc, headers=winner["headers"])).status_code == 404
    key = {**runner["headers"], "Idempotency-Key": "accept-key-0001"}
    r = await client.post(acc, headers=key)
    assert r.status_code == 201, r.text
    assert (r.json()["total"], r.json()["source"], r.json()["buyer_id"]) == (80, "second_chance", runner["id"])
    again = await client.post(acc, headers=key)
    assert again.json() == r.json()
    assert (await client.post(acc, headers=runner["headers"])).status_code == 409  # no key: already accepted
    assert (await client.get(f"{API}/me", headers=runner["headers"])).json()["wallet"]["available"] == 920


async def test_second_chance_needs_funds_and_relist(client: Any, sessions: Sessions, settings: Settings) -> None:
    seller, winner, runner = await api_user(client), await api_user(client), await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, winner["id"], 1000)
        await fund(s, runner["id"], 100)
    oid = await won_auction(sessions, settings, seller["id"], winner["id"], runner["id"])
    assert (await client.post(f"{API}/orders/{oid}/second-chance", headers=seller["headers"])).status_code == 409
    r = await client.post(f"{API}/orders/{oid}/cancel", json={"reason": "no money", "confirm": True},
                          headers=winner["headers"])
    assert r.status_code == 200
    offer = (await client.post(f"{API}/orders/{oid}/second-chance", headers=seller["headers"])).json()
    # the runner-up spent their coins meanwhile: 402, nothing changes
    lid = await _fixed(sessions, seller["id"], price=90, quantity=1)
    assert (await client.post(f"{API}/listings/{lid}/buy", json={}, headers=runner["headers"])).status_code == 201
    r = await client.post(f"{API}/second-chance-offers/{offer['id']}/accept", headers=runner["headers"])
    assert r.status_code == 402
    r = await client.post(f"{API}/second-chance-offers/{offer['id']}/decline", headers=runner["headers"])
    assert (r.status_code, r.json()["status"]) == (200, "declined")
    r = await client.post(f"{API}/orders/{oid}/relist", headers=winner["headers"])
    assert r.status_code == 404
    r = await client.post(f"{API}/orders/{oid}/relist", headers=seller["headers"])
    assert r.status_code == 201, r.text
    new = (await client.get(f"{API}/listings/{r.json()['listing_id']}")).json()
    assert (new["status"], new["mode"], new["bid_count"]) == ("active", "auction", 0)
    assert (await client.post(f"{API}/orders/{oid}/relist", headers=seller["headers"])).status_code == 409


async def test_three_strikes_block_bidding_with_403(client: Any, sessions: Sessions, settings: Settings) -> None:
    seller, buyer = await api_user(client), await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, buyer["id"], 1000)
    for _ in range(3):
        oid = await won_auction(sessions, settings, seller["id"], buyer["id"])
        r = await client.post(f"{API}/orders/{oid}/cancel", json={"reason": "oops", "confirm": True},
                              headers=buyer["headers"])
        assert r.status_code == 200
    async with sessions() as s, s.begin():
        listing = await make_listing(s, await s.get(User, seller["id"]), mode="auction", start_price=10)
        lid = listing.id
        assert await s.scalar(select(func.count()).select_from(Strike).where(Strike.user_id == buyer["id"])) == 3
    r = await client.post(f"{API}/listings/{lid}/bids", json={"max_amount": 20}, headers=buyer["headers"])
    assert r.status_code == 403
    assert "cannot bid until" in r.json()["detail"]
    # a seller's cancellation records a seller strike
    other = await api_user(client)
    async with sessions() as s, s.begin():
        order = await make_order(s, seller=await s.get(User, other["id"]))
        oid = order.id
    assert (await client.post(f"{API}/orders/{oid}/cancel", headers=other["headers"])).status_code == 200
    assert (await client.get(f"{API}/users/{other['id']}/strikes")).json()["seller"] == 1


async def test_bid_idempotency_key(client: Any, sessions: Sessions) -> None:
    seller, buyer = await api_user(client), await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, buyer["id"], 1000)
        listing = await make_listing(s, await s.get(User, seller["id"]), mode="auction", start_price=10)
        lid = listing.id
    h = {**buyer["headers"], "Idempotency-Key": "bid-key-000001"}
    r1 = await client.post(f"{API}/listings/{lid}/bids", json={"max_amount": 50}, headers=h)
    r2 = await client.post(f"{API}/listings/{lid}/bids", json={"max_amount": 50}, headers=h)
    assert (r1.status_code, r2.status_code) == (201, 201)
    assert r1.json() == r2.json()
    assert (await client.get(f"{API}/listings/{lid}")).json()["bid_count"] == 1
