"""Chaos (issue 11, keep it so): production mode survives losing its worker, its database connections and Redis.

Two server processes and an arq worker on PostgreSQL and a Redis of the test's own (never the machine's shared
Redis). While a dozen auctions with bids are ending, the worker is killed with SIGKILL, every PostgreSQL
connection of the database is terminated (``pg_terminate_backend``), Redis is stopped for a few seconds (and comes
back empty: queued close jobs are lost) and a new worker is started. Requests during the outage may answer 503,
never another 5xx. Afterwards every auction is closed exactly once (one order per sold auction, no hold left),
and ``marketplace ledger audit`` balances.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import PG_ADMIN_DSN
from tests.factories import PASSWORD
from tests.private_redis import PrivateRedis
from tests.system.conftest import ROOT, _free_port, _wait_http

AUCTIONS = 12


@dataclass
class ChaosCluster:
    urls: list[str]
    env: dict[str, str]
    redis: PrivateRedis
    logs: Path
    dbname: str
    procs: list[subprocess.Popen[Any]] = field(default_factory=list)
    worker: subprocess.Popen[Any] | None = None

    def start_worker(self) -> None:
        log = (self.logs / "worker.log").open("a")
        self.worker = subprocess.Popen([sys.executable, "-m", "marketplace.cli", "worker"], env=self.env, cwd=ROOT,
                                       stdout=log, stderr=subprocess.STDOUT)

    def kill_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGKILL)
            self.worker.wait(timeout=10)


@pytest.fixture
def chaos(db_url: str, tmp_path: Path) -> Iterator[ChaosCluster]:
    redis = PrivateRedis(tmp_path / "redis")
    redis.start()
    env = {
        **os.environ,
        "MARKETPLACE_DATABASE_URL": db_url,
        "MARKETPLACE_REDIS_URL": redis.url,
        "MARKETPLACE_DATA_DIR": str(tmp_path / "var"),
        "MARKETPLACE_MEDIA_DIR": str(tmp_path / "var" / "media"),
        "MARKETPLACE_MIN_AUCTION_SECONDS": "3",
        "MARKETPLACE_PAYMENT_GATEWAY": "sandbox",
        "MARKETPLACE_BID_RATE_LIMIT": "100000",
        "MARKETPLACE_SECRET_KEY": "chaos-test-secret-0123456789abcdef0123456789",
        "PYTHONPATH": str(ROOT),
    }
    cluster = ChaosCluster(urls=[], env=env, redis=redis, logs=tmp_path, dbname=db_url.rsplit("/", 1)[1])
    try:
        for name in ("a", "b"):
            port = _free_port()
            log = tmp_path / f"server-{name}.log"
            proc = subprocess.Popen(
                [sys.executable, "-m", "marketplace.cli", "serve", "--no-migrate", "--port", str(port)],
                env={**env, "MARKETPLACE_BASE_URL": f"http://127.0.0.1:{port}"}, cwd=ROOT,
                stdout=log.open("w"), stderr=subprocess.STDOUT,
            )
            cluster.procs.append(proc)
            cluster.urls.append(f"http://127.0.0.1:{port}")
        for proc, url, name in zip(cluster.procs, cluster.urls, "ab", strict=True):
            _wait_http(f"{url}/healthz", proc, tmp_path / f"server-{name}.log")
        cluster.start_worker()
        yield cluster
    finally:
        cluster.kill_worker()
        for proc in cluster.procs:
            proc.terminate()
        for proc in cluster.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        redis.stop()


def _terminate_connections(dbname: str) -> int:
    async def run() -> int:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            rows = await admin.fetch("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = $1 AND pid <> pg_backend_pid()", dbname)
            return len(rows)
        finally:
            await admin.close()

    return asyncio.run(run())


def _query(db_url: str, sql: str) -> list[Any]:
    async def run() -> list[Any]:
        conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return list(await conn.fetch(sql))
        finally:
            await conn.close()

    return asyncio.run(run())


def _user(c: httpx.Client, name: str) -> dict[str, Any]:
    c.post("/api/v1/auth/register", json={"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    token = c.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD}).json()
    return {"id": token["user"]["id"], "headers": {"Authorization": f"Bearer {token['token']}"}}


def _probe(clients: list[httpx.Client], headers: dict[str, str], codes: list[tuple[str, int]]) -> None:
    """A few reads on both processes; any answer but a 5xx other than 503 is recorded as is."""
    for c in clients:
        for path, h in (("/", {}), ("/api/v1/me", headers), ("/api/v1/listings", {}), ("/readyz", {})):
            try:
                codes.append((f"{c.base_url}{path}", c.get(path, headers=h).status_code))
            except httpx.HTTPError as exc:  # a refused connection is the network's, not a server error
                codes.append((f"{c.base_url}{path} {exc!r}", 0))


def test_worker_killed_database_connections_terminated_redis_stopped(chaos: ChaosCluster, db_url: str) -> None:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "marketplace.cli", "create-admin", "chaos_admin", "--email",
                    "chaos@example.com", "--password", PASSWORD], env=chaos.env, cwd=ROOT, check=True,
                   capture_output=True)
    a = httpx.Client(base_url=chaos.urls[0], timeout=15)
    b = httpx.Client(base_url=chaos.urls[1], timeout=15)
    codes: list[tuple[str, int]] = []
    try:
        admin = {"Authorization": "Bearer " + a.post("/api/v1/auth/token", json={
            "username": "chaos_admin", "password": PASSWORD}).json()["token"]}
        seller, alice, bob = _user(a, "chaos_seller"), _user(b, "chaos_alice"), _user(a, "chaos_bob")
        for u in (seller, alice, bob):
            r = a.post(f"/api/v1/admin/users/{u['id']}/adjustments", headers=admin,
                       json={"coins": 5000, "reason": "chaos test"})
            assert r.status_code == 201, r.text
        root = a.post("/api/v1/admin/categories", headers=admin, json={"name": "Chaos", "parent_id": None}).json()
        leaf = a.post("/api/v1/admin/categories", headers=admin,
                      json={"name": "Lots", "parent_id": root["id"]}).json()
        ids = []
        for i in range(AUCTIONS):
            r = (a if i % 2 else b).post("/api/v1/listings", headers=seller["headers"], json={
                "title": f"Chaos lot {i}", "description": "", "category_id": leaf["id"], "mode": "auction",
                "start_price": 10, "duration_seconds": 4 + i % 4, "auto_extend": False})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        for i, lid in enumerate(ids):
            if i % 4 == 3:
                continue  # a few end without bids: unsold
            for who, client, amount in ((alice, a, 40 + i), (bob, b, 60 + i)):
                r = client.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": amount}, headers=who["headers"])
                assert r.status_code == 201, r.text

        # The auctions end over the next few seconds. Chaos while they close:
        time.sleep(max(0.0, 4.5 - (time.monotonic() - started) % 1))
        chaos.kill_worker()
        assert _terminate_connections(chaos.dbname) >= 0
        _probe([a, b], alice["headers"], codes)
        chaos.redis.stop()
        outage_end = time.monotonic() + 3
        while time.monotonic() < outage_end:
            _probe([a, b], alice["headers"], codes)
            r = a.post(f"/api/v1/listings/{ids[0]}/bids", json={"max_amount": 999}, headers=alice["headers"])
            codes.append(("bid during outage", r.status_code))
            time.sleep(0.2)
        chaos.redis.start()
        _terminate_connections(chaos.dbname)
        chaos.start_worker()

        id_list = ",".join(map(str, ids))
        # Recovery: both processes ready again, and every auction closed (the worker's sweeper finds the
        # overdue ones: the queued close jobs were lost with Redis).
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            open_ = _query(db_url, f"SELECT id FROM listings WHERE status = 'active' AND id IN ({id_list})")
            ready = all(c.get("/readyz").status_code == 200 for c in (a, b))
            if not open_ and ready:
                break
            time.sleep(0.5)
        _probe([a, b], alice["headers"], codes)
    finally:
        a.close()
        b.close()

    server_errors = [(what, code) for what, code in codes if code >= 500 and code != 503]
    assert not server_errors, server_errors
    assert any(code == 503 for _, code in codes), "the Redis outage was not noticed at all"

    rows = _query(db_url, f"SELECT id, status FROM listings WHERE id IN ({','.join(map(str, ids))})")
    statuses = {r["id"]: r["status"] for r in rows}
    assert all(s in ("sold", "unsold") for s in statuses.values()), statuses
    orders = {r["listing_id"]: r["n"] for r in _query(
        db_url, "SELECT listing_id, count(*) AS n FROM orders GROUP BY listing_id")}
    for i, lid in enumerate(ids):
        expected = 0 if i % 4 == 3 else 1
        assert orders.get(lid, 0) == expected, (lid, statuses[lid], orders.get(lid))
        assert statuses[lid] == ("unsold" if expected == 0 else "sold")
    held = _query(db_url, "SELECT key, balance FROM ledger_accounts WHERE key LIKE 'user:%:held' AND balance <> 0")
    assert held == [], held

    audit = subprocess.run([sys.executable, "-m", "marketplace.cli", "ledger", "audit"], env=chaos.env, cwd=ROOT,
                           capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout + audit.stderr
