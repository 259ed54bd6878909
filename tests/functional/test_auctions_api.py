"""docs/api.md bids through HTTP: every error code, and docs/rules.md §3 scenarios replayed over the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.auctions.models import Bid
from marketplace.db import drain_after_commit, utcnow
from marketplace.listings.models import Listing
from marketplace.orders.models import Order
from marketplace.wallet import ledger
from tests.factories import api_user, fund, make_listing


async def auction(sessions: async_sessionmaker[AsyncSession], seller_id: int, **kw: Any) -> int:
    async with sessions() as s, s.begin():
        seller = await s.get(User, seller_id)
        listing = await make_listing(s, seller, mode="auction", **kw)
        return int(listing.id)


async def give(sessions: async_sessionmaker[AsyncSession], user_id: int, coins: int) -> None:
    async with sessions() as s, s.begin():
        await fund(s, user_id, coins)


async def wallet(sessions: async_sessionmaker[AsyncSession], user_id: int) -> tuple[int, int]:
    async with sessions() as s:
        return await ledger.wallet_balances(s, user_id)


async def row(sessions: async_sessionmaker[AsyncSession], listing_id: int) -> Listing:
    async with sessions() as s:
        listing = await s.get(Listing, listing_id)
        assert listing is not None
        return listing


async def people(client: Any, sessions: async_sessionmaker[AsyncSession], n: int, coins: int = 100_000
                 ) -> list[dict[str, Any]]:
    users = [await api_user(client) for _ in range(n)]
    for u in users:
        await give(sessions, u["id"], coins)
    return users


def bid(client: Any, listing_id: int, user: dict[str, Any], amount: Any) -> Any:
    return client.post(f"/api/v1/listings/{listing_id}/bids", json={"max_amount": amount}, headers=user["headers"])


# --- contract and error codes -------------------------------------------------------------------------------------


async def test_bid_201_body_and_hold(client: Any, sessions: Any) -> None:
    seller, a = await people(client, sessions, 2, coins=1000)
    lid = await auction(sessions, seller["id"], start_price=100)
    r = await bid(client, lid, a, 300)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) >= {"current_price", "you_lead", "bid_count", "min_next_bid", "ends_at", "reserve_met"}
    assert body["current_price"] == 100
    assert body["you_lead"] is True
    assert body["bid_count"] == 1
    assert body["min_next_bid"] == 105
    assert body["reserve_met"] is None
    assert body["ends_at"].endswith("Z") or body["ends_at"].endswith("+00:00")
    assert await wallet(sessions, a["id"]) == (700, 300)


async def test_bid_error_codes(client: Any, sessions: Any) -> None:
    seller, a, poor = await people(client, sessions, 3, coins=1000)
    lid = await auction(sessions, seller["id"], start_price=100)
    # 401 anonymous
    r = await client.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": 100})
    assert r.status_code == 401
    # 404 unknown listing
    assert (await bid(client, 999_999, a, 100)).status_code == 404
    # 403 own item
    assert (await bid(client, lid, seller, 100)).status_code == 403
    # 400/422 not a positive integer
    for bad in (0, -1, 10.5, "100", None, True):
        r = await bid(client, lid, a, bad)
        assert r.status_code == 400, (bad, r.status_code, r.text)
    r = await client.post(f"/api/v1/listings/{lid}/bids", json={}, headers=a["headers"])
    assert r.status_code == 400
    # 409 too low
    r = await bid(client, lid, a, 99)
    assert r.status_code == 409
    assert "minimum" in r.json()["detail"].lower()
    # 402 not enough coins (detail names the shortfall)
    r = await bid(client, lid, poor, 1500)
    assert r.status_code == 402
    assert "500" in r.json()["detail"]
    # nothing changed
    listing = await row(sessions, lid)
    assert (listing.bid_count, listing.leader_id, listing.current_price) == (0, None, 100)
    assert await wallet(sessions, poor["id"]) == (1000, 0)


async def test_bid_on_ended_or_closed_auction_is_409(client: Any, sessions: Any) -> None:
    seller, a = await people(client, sessions, 2)
    past = await auction(sessions, seller["id"], ends_at=utcnow() - timedelta(seconds=1))
    r = await bid(client, past, a, 100)
    assert r.status_code == 409  # past ends_at even though not closed yet
    closed = await auction(sessions, seller["id"])
    async with sessions() as s, s.begin():
        listing = await s.get(Listing, closed)
        assert listing is not None
        listing.status = "unsold"
    assert (await bid(client, closed, a, 100)).status_code == 409


async def test_bid_on_fixed_price_listing_is_not_an_auction(client: Any, sessions: Any) -> None:
    seller, a = await people(client, sessions, 2)
    async with sessions() as s, s.begin():
        fixed = (await make_listing(s, await s.get(User, seller["id"]), mode="fixed")).id
    assert (await bid(client, fixed, a, 100)).status_code == 404


async def test_rate_limit_429_with_retry_after(client: Any, sessions: Any, app: Any) -> None:
    seller, a = await people(client, sessions, 2)
    lid = await auction(sessions, seller["id"], start_price=1)
    limit = app.state.settings.bid_rate_limit
    await app.state.rate_limiter.hit(f"bids:{a['id']}", 60)
    for _ in range(limit - 1):
        await app.state.rate_limiter.hit(f"bids:{a['id']}", 60)
    r = await bid(client, lid, a, 5)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1


async def test_history_masks_names_newest_first(client: Any, sessions: Any) -> None:
    seller = (await people(client, sessions, 1))[0]
    alice = await api_user(client, "alice_bidder")
    bob = await api_user(client, "bob_bidder")
    for u in (alice, bob):
        await give(sessions, u["id"], 10_000)
    lid = await auction(sessions, seller["id"], start_price=10)
    assert (await bid(client, lid, alice, 50)).status_code == 201
    assert (await bid(client, lid, alice, 60)).status_code == 201  # leader raising: no visible step
    assert (await bid(client, lid, bob, 30)).status_code == 201
    assert (await bid(client, lid, bob, 100)).status_code == 201
    r = await client.get(f"/api/v1/listings/{lid}/bids")
    assert r.status_code == 200
    steps = r.json()
    assert [(s["bidder"], s["amount"]) for s in steps] == [("b***r", 61), ("a***r", 31), ("a***r", 10)]
    assert all("created_at" in s for s in steps)
    assert (await client.get("/api/v1/listings/999999/bids")).status_code == 404


# --- docs/rules.md §3 over HTTP ------------------------------------------------------------------------------------


async def test_proxy_bidding_scenario_over_http(client: Any, sessions: Any) -> None:
    seller, a, b, c = await people(client, sessions, 4, coins=10_000)
    lid = await auction(sessions, seller["id"], start_price=100, buy_now_price=5000)
    # one bidder: start price, hold of the max, Buy Now gone
    assert (await bid(client, lid, a, 400)).json()["current_price"] == 100
    snap = await row(sessions, lid)
    assert snap.leader_id == a["id"]
    # below the minimum next bid (105)
    assert (await bid(client, lid, b, 104)).status_code == 409
    # second bidder under the leader: M2 + increment(M2) = 200 + 5
    body = (await bid(client, lid, b, 200)).json()
    assert (body["current_price"], body["you_lead"], body["min_next_bid"]) == (205, False, 210)
    assert await wallet(sessions, b["id"]) == (10_000, 0)  # no hold for a bid that does not lead
    # equal maxima: the earlier bid leads at M1
    body = (await bid(client, lid, c, 400)).json()
    assert (body["current_price"], body["you_lead"]) == (400, False)
    # a new leader: old leader released in the same transaction
    body = (await bid(client, lid, c, 1000)).json()
    assert (body["current_price"], body["you_lead"], body["min_next_bid"]) == (405, True, 410)
    assert await wallet(sessions, a["id"]) == (10_000, 0)
    assert await wallet(sessions, c["id"]) == (9_000, 1000)
    # leader raising: no minimum, price unchanged, hold grows by the increase only
    body = (await bid(client, lid, c, 1001)).json()
    assert (body["current_price"], body["you_lead"]) == (405, True)
    assert await wallet(sessions, c["id"]) == (8_999, 1001)
    # leader must go above their own maximum
    assert (await bid(client, lid, c, 1001)).status_code == 409
    # Buy Now is gone once bids exist
    r = await client.get(f"/api/v1/listings/{lid}/bids")
    assert r.json()[0]["amount"] == 405


async def test_reserve_over_http(client: Any, sessions: Any) -> None:
    seller, a, b = await people(client, sessions, 3, coins=10_000)
    lid = await auction(sessions, seller["id"], start_price=10, reserve_price=500)
    body = (await bid(client, lid, a, 300)).json()
    assert (body["current_price"], body["reserve_met"]) == (10, False)
    body = (await bid(client, lid, b, 200)).json()
    assert (body["current_price"], body["reserve_met"]) == (205, False)
    # the leader raising to the reserve lifts the price to it
    body = (await bid(client, lid, a, 600)).json()
    assert (body["current_price"], body["reserve_met"], body["you_lead"]) == (500, True, True)


async def test_single_bidder_meets_reserve_over_http(client: Any, sessions: Any) -> None:
    seller, a = await people(client, sessions, 2, coins=10_000)
    lid = await auction(sessions, seller["id"], start_price=10, reserve_price=200)
    body = (await bid(client, lid, a, 250)).json()
    assert (body["current_price"], body["reserve_met"]) == (200, True)


async def test_extension_over_http(client: Any, sessions: Any) -> None:
    seller, a, b = await people(client, sessions, 3)
    end = utcnow() + timedelta(seconds=120)
    lid = await auction(sessions, seller["id"], start_price=10, ends_at=end)
    r = await bid(client, lid, a, 100)  # first bid at the start price: no extension
    assert (await row(sessions, lid)).ends_at == end
    r = await bid(client, lid, b, 50)  # raises the price 10 → 51 with < 5 min left
    assert r.status_code == 201
    listing = await row(sessions, lid)
    assert listing.ends_at == end + timedelta(minutes=5)
    r = await bid(client, lid, a, 500)  # leader raising: no extension
    assert (await row(sessions, lid)).ends_at == end + timedelta(minutes=5)
    off = await auction(sessions, seller["id"], start_price=10, ends_at=end, auto_extend=False)
    await bid(client, off, a, 100)
    await bid(client, off, b, 50)
    assert (await row(sessions, off)).ends_at == end


async def test_refused_bid_leaves_no_trace(client: Any, sessions: Any) -> None:
    seller, a, b = await people(client, sessions, 3, coins=1000)
    lid = await auction(sessions, seller["id"], start_price=10)
    await bid(client, lid, a, 100)
    for amount, status in ((5, 409), (2000, 402)):  # below the start price; more than b's 1,000 coins
        assert (await bid(client, lid, b, amount)).status_code == status
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Bid)) == 1
    assert await wallet(sessions, b["id"]) == (1000, 0)


async def test_buy_now_on_auction(client: Any, sessions: Any) -> None:
    from marketplace.auctions.services import buy_now

    seller, a, b = await people(client, sessions, 3, coins=1000)
    lid = await auction(sessions, seller["id"], start_price=10, buy_now_price=300)
    async with sessions() as s, s.begin():
        order = await buy_now(s, lid, a["id"], utcnow())
        assert order.total == 300
    listing = await row(sessions, lid)
    assert listing.status == "sold"
    assert await wallet(sessions, a["id"]) == (700, 0)
    assert (await bid(client, lid, b, 20)).status_code == 409
    # Buy Now with bids: 409
    lid2 = await auction(sessions, seller["id"], start_price=10, buy_now_price=300)
    await bid(client, lid2, b, 20)
    from marketplace.errors import Conflict, PaymentRequired, PermissionDenied

    async with sessions() as s, s.begin():
        with pytest.raises(Conflict):
            await buy_now(s, lid2, a["id"], utcnow())
    lid3 = await auction(sessions, seller["id"], start_price=10, buy_now_price=5000)
    async with sessions() as s:
        with pytest.raises(PaymentRequired):
            await buy_now(s, lid3, a["id"], utcnow())
        await s.rollback()
        with pytest.raises(PermissionDenied):
            await buy_now(s, lid3, seller["id"], utcnow())
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 1
    await drain_after_commit()


async def test_openapi_describes_bid_endpoints(client: Any) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    path = r.json()["paths"]["/api/v1/listings/{listing_id}/bids"]
    assert {"get", "post"} <= set(path)
