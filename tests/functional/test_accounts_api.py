"""docs/api.md Accounts, through the HTTP layer on PostgreSQL."""

from typing import Any

from tests.factories import PASSWORD, api_user


async def test_register_returns_201_with_id_and_username(client: Any) -> None:
    r = await client.post("/api/v1/auth/register",
                          json={"username": "alice_1", "email": "alice@example.com", "password": PASSWORD})
    assert r.status_code == 201
    body = r.json()
    assert body["username"] == "alice_1"
    assert isinstance(body["id"], int)


async def test_register_taken_username_is_409(client: Any) -> None:
    payload = {"username": "dupe", "email": "d1@example.com", "password": PASSWORD}
    assert (await client.post("/api/v1/auth/register", json=payload)).status_code == 201
    r = await client.post("/api/v1/auth/register", json={**payload, "username": "DUPE", "email": "d2@example.com"})
    assert r.status_code == 409
    assert "taken" in r.json()["detail"]


async def test_register_invalid_input_is_4xx_and_creates_nothing(client: Any) -> None:
    bad = [
        {"username": "ab", "email": "a@example.com", "password": PASSWORD},
        {"username": "bad name", "email": "a@example.com", "password": PASSWORD},
        {"username": "goodname", "email": "not-an-email", "password": PASSWORD},
        {"username": "goodname", "email": "a@example.com", "password": ""},
        {"username": "goodname", "email": "a@example.com", "password": "short"},
        {"username": "x" * 40, "email": "a@example.com", "password": PASSWORD},
        {"username": "goodname"},
    ]
    for payload in bad:
        r = await client.post("/api/v1/auth/register", json=payload)
        assert r.status_code == 400, (payload, r.status_code)
        assert r.json()["detail"]
    r = await client.post("/api/v1/auth/token", json={"username": "goodname", "password": PASSWORD})
    assert r.status_code == 401


async def test_token_and_me(client: Any) -> None:
    u = await api_user(client, "bob_me")
    r = await client.get("/api/v1/me", headers=u["headers"])
    assert r.status_code == 200
    assert r.json() == {"id": u["id"], "username": "bob_me", "email": "bob_me@example.com", "is_admin": False,
                        "wallet": {"available": 0, "held": 0}}


async def test_wrong_password_is_401(client: Any) -> None:
    await api_user(client, "carol")
    r = await client.post("/api/v1/auth/token", json={"username": "carol", "password": "wrong-password"})
    assert r.status_code == 401
    assert r.json()["status_code"] == 401


async def test_me_needs_a_valid_token(client: Any) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    assert (await client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})).status_code == 401


async def test_login_rate_limit_per_username(client: Any) -> None:
    await api_user(client, "dave")
    for _ in range(10):
        r = await client.post("/api/v1/auth/token", json={"username": "dave", "password": "wrong-password"})
        assert r.status_code == 401
    r = await client.post("/api/v1/auth/token", json={"username": "dave", "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
