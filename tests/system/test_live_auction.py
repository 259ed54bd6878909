"""The production path of an auction: two server processes, one arq worker, PostgreSQL + Redis.

A bid accepted by process A reaches a websocket watcher connected to process B (Channels over Redis pub/sub),
the worker closes the auction at its end exactly once, and the winner has an order.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.factories import PASSWORD
from tests.system.conftest import ROOT, Cluster


def _user(client: httpx.Client, name: str) -> dict[str, Any]:
    client.post("/api/v1/auth/register", json={"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    token = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD}).json()
    return {"id": token["user"]["id"], "headers": {"Authorization": f"Bearer {token['token']}"}}


def _next(ws: Any, kind: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["type"] == kind:
            return message  # type: ignore[no-any-return]


def test_bid_on_a_reaches_a_watcher_on_b_and_the_worker_closes_once(cluster: Cluster) -> None:
    subprocess.run([sys.executable, "-m", "marketplace.cli", "create-admin", "boss", "--email", "boss@example.com",
                    "--password", PASSWORD], env=cluster.env, cwd=ROOT, check=True, capture_output=True)
    with httpx.Client(base_url=cluster.a, timeout=10) as a, httpx.Client(base_url=cluster.b, timeout=10) as b:
        admin = {"Authorization": "Bearer " + a.post("/api/v1/auth/token", json={
            "username": "boss", "password": PASSWORD}).json()["token"]}
        seller, alice, bob = _user(a, "seller1"), _user(a, "alice1"), _user(b, "bob1")
        for u in (seller, alice, bob):
            r = a.post(f"/api/v1/admin/users/{u['id']}/adjustments", headers=admin,
                       json={"coins": 1000, "reason": "system test"})
            assert r.status_code == 201, r.text
        root = a.post("/api/v1/admin/categories", headers=admin, json={"name": "Sys", "parent_id": None}).json()
        leaf = a.post("/api/v1/admin/categories", headers=admin, json={"name": "Leaf", "parent_id": root["id"]}).json()
        r = a.post("/api/v1/listings", headers=seller["headers"], json={
            "title": "Live lot", "description": "", "category_id": leaf["id"], "mode": "auction",
            "start_price": 10, "duration_seconds": 4, "auto_extend": False})
        assert r.status_code == 201, r.text
        listing = r.json()

        ws_url = cluster.b.replace("http://", "ws://") + f"/ws/listings/{listing['id']}"
        with connect(ws_url, open_timeout=10) as ws:
            assert _next(ws, "snapshot")["id"] == listing["id"]
            r = a.post(f"/api/v1/listings/{listing['id']}/bids", json={"max_amount": 50}, headers=alice["headers"])
            assert r.status_code == 201, r.text
            assert _next(ws, "bid")["bid_count"] == 1
            r = b.post(f"/api/v1/listings/{listing['id']}/bids", json={"max_amount": 80}, headers=bob["headers"])
            assert r.status_code == 201, r.text
            update = _next(ws, "bid")
            assert (update["bid_count"], update["current_price"]) == (2, 51)
            closed = _next(ws, "closed", timeout=30)  # the worker (job or sweeper) closes it
            assert (closed["status"], closed["final_price"]) == ("sold", 51)

        orders = a.get("/api/v1/orders", params={"role": "buyer"}, headers=bob["headers"]).json()["items"]
        assert [(o["listing_id"], o["total"], o["status"]) for o in orders] == [(listing["id"], 51, "paid")]
        assert a.get("/api/v1/me", headers=bob["headers"]).json()["wallet"] == {"available": 949, "held": 0}
        assert b.get("/api/v1/me", headers=alice["headers"]).json()["wallet"] == {"available": 1000, "held": 0}

    audit = subprocess.run([sys.executable, "-m", "marketplace.cli", "ledger", "audit"], env=cluster.env, cwd=ROOT,
                           capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout + audit.stderr
