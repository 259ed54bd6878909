"""Accounts, sessions and rate limits are shared by every server process (Redis + PostgreSQL)."""

from __future__ import annotations

import httpx

from tests.factories import PASSWORD
from tests.system.conftest import Cluster


def test_token_from_one_process_works_on_the_other(cluster: Cluster) -> None:
    with httpx.Client(base_url=cluster.a) as a, httpx.Client(base_url=cluster.b) as b:
        r = a.post("/api/v1/auth/register",
                   json={"username": "multi", "email": "m@example.com", "password": PASSWORD})
        assert r.status_code == 201
        token = b.post("/api/v1/auth/token", json={"username": "multi", "password": PASSWORD}).json()["token"]
        me = a.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["username"] == "multi"


def test_html_session_is_shared_through_redis(cluster: Cluster) -> None:
    with httpx.Client(base_url=cluster.a) as a:
        a.post("/api/v1/auth/register", json={"username": "sess", "email": "s@example.com", "password": PASSWORD})
        a.get("/login")
        r = a.post("/login", data={"username": "sess", "password": PASSWORD,
                                   "_csrf_token": a.cookies["csrftoken"]})
        assert r.status_code == 303
        cookies = a.cookies
    with httpx.Client(base_url=cluster.b, cookies=cookies) as b:
        page = b.get("/")
        assert page.status_code == 200
        # the account menu of the logged-in user, rendered by the other process
        assert "<summary>sess</summary>" in page.text


def test_login_rate_limit_counts_across_processes(cluster: Cluster) -> None:
    with httpx.Client(base_url=cluster.a) as a, httpx.Client(base_url=cluster.b) as b:
        a.post("/api/v1/auth/register", json={"username": "limited", "email": "l@example.com", "password": PASSWORD})
        for i in range(10):
            client = a if i % 2 else b
            r = client.post("/api/v1/auth/token", json={"username": "limited", "password": "wrong-password"})
            assert r.status_code == 401
        r = a.post("/api/v1/auth/token", json={"username": "limited", "password": PASSWORD})
        assert r.status_code == 429
        assert "retry-after" in r.headers
