"""Issue 11 minor items: token expiry and revocation, registration, strict JSON numbers, documented errors."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from marketplace.accounts.models import ApiToken
from marketplace.db import utcnow
from tests.factories import PASSWORD, api_user, html_login, html_post


async def test_delete_token_revokes_the_callers_token(client: Any) -> None:
    user = await api_user(client)
    r = await client.post("/api/v1/auth/token", json={"username": user["username"], "password": PASSWORD})
    other = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.get("/api/v1/me", headers=user["headers"])).status_code == 200
    r = await client.delete("/api/v1/auth/token", headers=user["headers"])
    assert r.status_code == 204
    assert (await client.get("/api/v1/me", headers=user["headers"])).status_code == 401
    assert (await client.delete("/api/v1/auth/token", headers=user["headers"])).status_code == 401
    assert (await client.get("/api/v1/me", headers=other)).status_code == 200  # only that one token


async def test_tokens_expire(client: Any, sessions: Any) -> None:
    user = await api_user(client)
    async with sessions() as s, s.begin():
        await s.execute(update(ApiToken).where(ApiToken.user_id == user["id"])
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await client.get("/api/v1/me", headers=user["headers"])).status_code == 401


async def test_new_tokens_carry_an_expiry(client: Any, sessions: Any, settings: Any) -> None:
    user = await api_user(client)
    async with sessions() as s:
        token = (await s.scalars(select(ApiToken).where(ApiToken.user_id == user["id"]))).one()
    assert token.expires_at is not None
    days = (token.expires_at - utcnow()).total_seconds() / 86400
    assert settings.api_token_days - 1 < days <= settings.api_token_days


async def test_tokens_page_lists_and_revokes(client: Any) -> None:
    user = await api_user(client)
    await html_login(client, user["username"])
    page = await client.get("/account/tokens")
    assert page.status_code == 200
    ids = re.findall(r'action="/account/tokens/(\d+)/revoke"', page.text)
    assert len(ids) == 1
    r = await html_post(client, f"/account/tokens/{ids[0]}/revoke", {})
    assert r.status_code == 303
    assert (await client.get("/api/v1/me", headers=user["headers"])).status_code == 401
    assert "You have no API tokens" in (await client.get("/account/tokens")).text
    # someone else's token id: 404
    stranger = await api_user(client)
    r = await html_post(client, "/account/tokens/999999/revoke", {})
    assert r.status_code == 404
    assert (await client.get("/api/v1/me", headers=stranger["headers"])).status_code == 200


async def test_registration_does_not_say_which_of_name_or_email_is_taken(client: Any) -> None:
    await api_user(client, "regtaken")
    by_name = await client.post("/api/v1/auth/register",
                                json={"username": "regtaken", "email": "fresh@example.com", "password": PASSWORD})
    by_email = await client.post("/api/v1/auth/register",
                                 json={"username": "fresh_name", "email": "regtaken@example.com",
                                       "password": PASSWORD})
    assert by_name.status_code == by_email.status_code == 409
    assert by_name.json()["detail"] == by_email.json()["detail"]
    assert "e-mail" in by_email.json()["detail"]


async def test_numbers_only_as_json_numbers(client: Any) -> None:
    user = await api_user(client)
    r = await client.post("/api/v1/wallet/topups", json={"coins": "100"}, headers=user["headers"])
    assert r.status_code == 400
    assert "coins" in r.json()["detail"]
    r = await client.post("/api/v1/wallet/topups", json={"coins": 100}, headers=user["headers"])
    assert r.status_code == 201


async def test_openapi_lists_error_responses(client: Any) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    register = schema["paths"]["/api/v1/auth/register"]["post"]["responses"]
    assert {"201", "400", "409", "429", "503"} <= set(register)
    assert register["409"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorResponse"
    assert {"200", "401", "404", "503"} <= set(schema["paths"]["/api/v1/me"]["get"]["responses"])
    assert "delete" in schema["paths"]["/api/v1/auth/token"]


async def test_demo_gives_alice_a_token_to_look_at(sessions: Any, settings: Any) -> None:
    from marketplace import demo
    from marketplace.accounts.models import User

    async with sessions() as s, s.begin():
        assert await demo.seed(s, settings)
    async with sessions() as s:
        alice = (await s.scalars(select(User).where(User.username == "alice"))).one()
        tokens = (await s.scalars(select(ApiToken).where(ApiToken.user_id == alice.id))).all()
    assert len(tokens) == 1
    assert tokens[0].expires_at is not None
