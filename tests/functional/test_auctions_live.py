"""Live bids over a real websocket: snapshot, bid and closed messages, two processes on one Redis, no leaks.

The app runs under uvicorn inside the test's event loop (Litestar's websocket test session would run the app in
another thread's loop, away from the database engine and the channels workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from litestar import Litestar
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.app import create_app
from marketplace.auctions.live import subscriber_count
from marketplace.auctions.schemas import channel_name
from marketplace.db import utcnow
from marketplace.jobs import RedisPublisher
from marketplace.listings.models import Listing
from marketplace.orders.models import Order
from marketplace.settings import Settings
from marketplace.wallet import ledger
from tests.factories import api_user, fund, make_listing


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(app: Litestar) -> AsyncIterator[str]:
    port = _port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           ws="websockets-sansio"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def recv(ws: Any, wait: float = 3.0) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), wait))  # type: ignore[no-any-return]


async def setup_auction(sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, **kw: Any
                        ) -> tuple[int, dict[str, Any], dict[str, Any]]:
    seller = await api_user(http)
    bidder = await api_user(http)
    async with sessions() as s, s.begin():
        await fund(s, bidder["id"], 10_000)
        listing = await make_listing(s, await s.get(User, seller["id"]), mode="auction", start_price=100, **kw)
    return int(listing.id), seller, bidder


async def wait_for(predicate: Any, within: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_snapshot_then_bid_then_closed(app: Litestar, sessions: Any) -> None:
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        lid, _seller, bidder = await setup_auction(sessions, http, buy_now_price=900)
        async with websockets.connect(f"ws://{host}/ws/listings/{lid}") as ws:
            snap = await recv(ws)
            assert snap["type"] == "snapshot"
            assert (snap["id"], snap["mode"], snap["current_price"], snap["min_next_bid"]) == (lid, "auction", 100, 100)
            assert (snap["bid_count"], snap["buy_now_price"], snap["reserve_met"], snap["you_lead"]) == (0, 900, None,
                                                                                                          False)
            assert {"ends_at", "auto_extend", "seller", "title", "status", "start_price"} <= set(snap)
            r = await http.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": 300}, headers=bidder["headers"])
            assert r.status_code == 201
            msg = await recv(ws)
            assert msg["type"] == "bid"
            assert {k: msg[k] for k in ("current_price", "bid_count", "min_next_bid", "reserve_met",
                                        "buy_now_price")} == {"current_price": 100, "bid_count": 1,
                                                              "min_next_bid": 105, "reserve_met": None,
                                                              "buy_now_price": None}
            assert msg["ends_at"] == snap["ends_at"]
            # the close job path publishes "closed" to the same channel
            await app.state.publisher.publish(channel_name(lid), {"type": "closed", "status": "sold",
                                                                  "final_price": 100})
            assert (await recv(ws))["type"] == "closed"
        plugin = app.state.channels
        await wait_for(lambda: subscriber_count(plugin, channel_name(lid)) == 0)
        assert channel_name(lid) not in plugin._channels


async def test_unknown_listing_gets_an_error_and_close(app: Litestar, sessions: Any) -> None:
    async with serve(app) as host, websockets.connect(f"ws://{host}/ws/listings/987654") as ws:
        assert (await recv(ws))["type"] == "error"
        with pytest.raises(websockets.ConnectionClosed):
            await recv(ws)


async def test_many_watchers_then_zero_subscriptions(app: Litestar, sessions: Any) -> None:
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        lid, _seller, bidder = await setup_auction(sessions, http)
        plugin = app.state.channels
        channel = channel_name(lid)
        sockets = [await websockets.connect(f"ws://{host}/ws/listings/{lid}") for _ in range(20)]
        for ws in sockets:
            assert (await recv(ws))["type"] == "snapshot"
        assert subscriber_count(plugin, channel) == 20
        r = await http.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": 150}, headers=bidder["headers"])
        assert r.status_code == 201
        for ws in sockets:
            assert (await recv(ws))["bid_count"] == 1
        for ws in sockets:
            await ws.close()
        await wait_for(lambda: subscriber_count(plugin, channel) == 0)
        await wait_for(lambda: channel not in plugin._channels)  # litestar #4867: no empty entry left behind


@pytest.fixture
def redis_settings(settings: Settings, redis_url: str) -> Settings:
    return settings.with_(redis_url=redis_url, embedded_jobs=True)


async def test_bid_on_instance_a_reaches_watcher_on_instance_b(redis_settings: Settings, sessions: Any,
                                                               redis_url: str) -> None:
    app_a, app_b = create_app(redis_settings), create_app(redis_settings)
    async with serve(app_a) as host_a, serve(app_b) as host_b, \
            httpx.AsyncClient(base_url=f"http://{host_a}") as http_a:
        lid, _seller, bidder = await setup_auction(sessions, http_a)
        async with websockets.connect(f"ws://{host_b}/ws/listings/{lid}") as ws:
            assert (await recv(ws))["type"] == "snapshot"
            started = asyncio.get_running_loop().time()
            r = await http_a.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": 200},
                                  headers=bidder["headers"])
            assert r.status_code == 201
            msg = await recv(ws)
            assert (msg["type"], msg["current_price"], msg["bid_count"]) == ("bid", 100, 1)
            assert asyncio.get_running_loop().time() - started < 1.0
            # The worker's RedisPublisher speaks the plugin's wire format.
            redis = Redis.from_url(redis_url)
            try:
                await RedisPublisher(redis).publish(channel_name(lid), {"type": "closed", "status": "sold",
                                                                        "final_price": 100})
                closed = await recv(ws)
                assert (closed["type"], closed["status"], closed["final_price"]) == ("closed", "sold", 100)
            finally:
                await redis.aclose()
        plugin_b = app_b.state.channels
        await wait_for(lambda: subscriber_count(plugin_b, channel_name(lid)) == 0)
        assert channel_name(lid) not in plugin_b._channels
        # and the Redis pub/sub subscription itself is gone
        backend = plugin_b._backend
        await wait_for(lambda: channel_name(lid).encode() not in (
            backend._pub_sub.channels.keys() - backend._pub_sub.pending_unsubscribe_channels))


async def test_close_job_closes_on_time_and_notifies(app: Litestar, sessions: Any) -> None:
    """Embedded mode: a listing scheduled with schedule_close closes at ends_at and watchers hear it."""
    from marketplace.auctions.tasks import schedule_close

    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        lid, _seller, bidder = await setup_auction(sessions, http)
        async with sessions() as s, s.begin():
            listing = await s.get(Listing, lid)
            assert listing is not None
            listing.ends_at = utcnow() + timedelta(seconds=1)
        async with websockets.connect(f"ws://{host}/ws/listings/{lid}") as ws:
            await recv(ws)
            r = await http.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": 200}, headers=bidder["headers"])
            assert r.status_code == 201
            assert (await recv(ws))["type"] == "bid"
            await schedule_close(app, listing)
            msg = await recv(ws, wait=6)
            assert (msg["type"], msg["status"], msg["final_price"]) == ("closed", "sold", 100)
        # the winner has a paid order at the final price; the rest of the hold went back to available
        async with sessions() as s:
            order = (await s.scalars(select(Order).where(Order.listing_id == lid))).one()
            assert (order.buyer_id, order.total, order.status) == (bidder["id"], 100, "paid")
            assert await ledger.wallet_balances(s, bidder["id"]) == (10_000 - 100, 0)
            assert await ledger.balance(s, ledger.escrow(order.id)) == 100
