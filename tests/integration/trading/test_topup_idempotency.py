"""Idempotent top-ups (docs/rules.md §19.3): the API's `Idempotency-Key` header and the wallet form's hidden key
make a resubmission answer the first top-up instead of opening a second one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.idempotency import IdempotencyRecord
from marketplace.wallet.models import TopUp
from tests.factories import api_user, html_login, html_post, make_user

API = "/api/v1"
Sessions = async_sessionmaker[AsyncSession]


async def _topups(sessions: Sessions, user_id: int) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(TopUp).where(TopUp.user_id == user_id)) or 0)


async def test_api_topup_with_key_replays_the_first(client: Any, sessions: Sessions) -> None:
    me = await api_user(client)
    headers = {**me["headers"], "Idempotency-Key": "topup-key-0001"}
    r1 = await client.post(f"{API}/wallet/topups", json={"coins": 500}, headers=headers)
    assert r1.status_code == 201, r1.text
    r2 = await client.post(f"{API}/wallet/topups", json={"coins": 500}, headers=headers)
    assert r2.status_code == 201
    assert r2.json() == r1.json()
    assert await _topups(sessions, me["id"]) == 1
    # another key is another top-up; no key at all too
    r3 = await client.post(f"{API}/wallet/topups", json={"coins": 500},
                           headers={**me["headers"], "Idempotency-Key": "topup-key-0002"})
    assert r3.status_code == 201
    assert r3.json()["id"] != r1.json()["id"]
    assert (await client.post(f"{API}/wallet/topups", json={"coins": 500}, headers=me["headers"])).status_code == 201
    assert await _topups(sessions, me["id"]) == 3


async def test_api_topup_bad_key_and_refused_amount(client: Any, sessions: Sessions) -> None:
    me = await api_user(client)
    r = await client.post(f"{API}/wallet/topups", json={"coins": 500},
                          headers={**me["headers"], "Idempotency-Key": "short"})
    assert r.status_code == 400
    headers = {**me["headers"], "Idempotency-Key": "topup-key-refused"}
    assert (await client.post(f"{API}/wallet/topups", json={"coins": 1}, headers=headers)).status_code == 400
    async with sessions() as s:  # a refused request keeps no key: it can be retried
        assert await s.scalar(select(func.count()).select_from(IdempotencyRecord)
                              .where(IdempotencyRecord.key == "topup-key-refused")) == 0
    assert (await client.post(f"{API}/wallet/topups", json={"coins": 500}, headers=headers)).status_code == 201
    assert await _topups(sessions, me["id"]) == 1


async def test_form_resubmission_goes_to_the_first_topup(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        user = await make_user(s)
    await html_login(client, user.username)
    page = await client.get("/wallet")
    assert 'name="idempotency_key"' in page.text
    form = {"coins": "300", "idempotency_key": "form-topup-key-01"}
    r1 = await html_post(client, "/wallet/topups", form)
    r2 = await html_post(client, "/wallet/topups", form)
    assert r1.status_code == r2.status_code == 303
    assert all(urlsplit(r.headers["location"]).path == "/payments/sandbox/pay" for r in (r1, r2))
    assert await _topups(sessions, user.id) == 1
    r3 = await html_post(client, "/wallet/topups", {"coins": "300", "idempotency_key": "form-topup-key-02"})
    assert r3.status_code == 303
    assert await _topups(sessions, user.id) == 2
