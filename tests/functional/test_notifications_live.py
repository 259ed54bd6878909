"""``/ws/me`` over a real websocket: the unread count on connect, a notification pushed after the outbid commits
(token and session-cookie authentication), across two processes through Redis, no channel left behind."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import websockets
from litestar import Litestar

from marketplace import jobs
from marketplace.app import create_app
from marketplace.auctions.live import subscriber_count
from marketplace.settings import Settings
from tests.factories import PASSWORD, api_user
from tests.functional.test_auctions_live import recv, serve, setup_auction, wait_for


async def outbid_setup(sessions: Any, http: httpx.AsyncClient) -> tuple[int, dict[str, Any], dict[str, Any]]:
    lid, _seller, a = await setup_auction(sessions, http)
    b = await api_user(http)
    from tests.functional.test_auctions_api import give

    await give(sessions, b["id"], 10_000)
    r = await http.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": 200}, headers=a["headers"])
    assert r.status_code == 201
    return lid, a, b


async def test_token_socket_gets_the_outbid(app: Litestar, sessions: Any) -> None:
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        lid, a, b = await outbid_setup(sessions, http)
        token = a["headers"]["Authorization"].split()[1]
        async with websockets.connect(f"ws://{host}/ws/me?token={token}") as ws:
            assert await recv(ws) == {"type": "unread", "unread": 0}
            r = await http.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": 500}, headers=b["headers"])
            assert r.status_code == 201
            msg = await recv(ws)
            assert msg["type"] == "notification"
            assert msg["kind"] == "outbid"
            assert msg["unread"] == 1
            assert msg["url"] == f"/listings/{lid}"
            assert set(msg) == {"type", "id", "kind", "title", "message", "url", "unread"}
            # ``title`` stays English (docs/api.md); ``message`` is the title in the recipient's language
            assert msg["title"].startswith("You were outbid on ")
            assert msg["message"].startswith("您在 ")
            assert msg["message"].endswith(" 上的出价已被超过")
            r = await http.post("/api/v1/notifications/read", json={"all": True}, headers=a["headers"])
            assert r.json() == {"unread": 0}
            assert await recv(ws) == {"type": "unread", "unread": 0}
        plugin = app.state.channels
        await wait_for(lambda: subscriber_count(plugin, f"user:{a['id']}") == 0)
        assert f"user:{a['id']}" not in plugin._channels


async def test_session_cookie_socket(app: Litestar, sessions: Any) -> None:
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        me = await api_user(http)
        await http.get("/login")
        r = await http.post("/login", data={"username": me["username"], "password": PASSWORD,
                                            "_csrf_token": http.cookies.get("csrftoken")})
        assert r.status_code == 303
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        async with websockets.connect(f"ws://{host}/ws/me", additional_headers={"Cookie": cookie}) as ws:
            assert await recv(ws) == {"type": "unread", "unread": 0}


async def test_anonymous_and_bad_token_are_refused(app: Litestar) -> None:
    async with serve(app) as host:
        for url in (f"ws://{host}/ws/me", f"ws://{host}/ws/me?token=nope"):
            async with websockets.connect(url) as ws:
                assert (await recv(ws))["type"] == "error"
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await recv(ws)
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 4401


async def test_two_processes_through_redis(settings: Settings, redis_url: str, sessions: Any) -> None:
    """The bid lands on process 1; the watcher's socket is on process 2."""
    s = settings.with_(redis_url=redis_url, embedded_jobs=True)
    one, two = create_app(s), create_app(s)
    async with serve(one) as host1, serve(two) as host2, httpx.AsyncClient(base_url=f"http://{host1}") as http:
        # One app per process in production; here both share the process-wide runtime, so pin it to process 1's
        # publisher: the message can reach process 2's socket only through Redis.
        jobs.install_runtime(one.state.publisher, one.state.jobs)
        lid, a, b = await outbid_setup(sessions, http)
        token = a["headers"]["Authorization"].split()[1]
        async with websockets.connect(f"ws://{host2}/ws/me?token={token}") as ws:
            assert (await recv(ws))["type"] == "unread"
            r = await http.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": 500}, headers=b["headers"])
            assert r.status_code == 201
            msg = await recv(ws, wait=5)
            assert msg["kind"] == "outbid"
