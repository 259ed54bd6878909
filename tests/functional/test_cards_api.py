"""docs/api.md "Prepaid coin cards" through HTTP on PostgreSQL: maker-checker, export once, card actions,
redemption with one error message, lockout and the per-user 429."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.cards import rules
from marketplace.cards.exceptions import INVALID_CARD_MESSAGE
from marketplace.cards.models import CardBatch
from marketplace.db import utcnow
from marketplace.wallet.audit import audit
from tests.factories import api_admin, api_user

TOMORROW = (utcnow().date() + timedelta(days=30)).isoformat()


async def make_batch(client: Any, maker: dict[str, Any], *, face_value: int = 100, count: int = 3) -> dict[str, Any]:
    r = await client.post("/api/v1/admin/card-batches", headers=maker["headers"],
                          json={"face_value": face_value, "count": count, "expires_on": TOMORROW, "note": "test"})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def ready_batch(client: Any, sessions: Any, *, face_value: int = 100,
                      count: int = 3) -> tuple[dict[str, Any], list[dict[str, str]], dict[str, Any]]:
    """Created by one admin, activated by another, exported: (batch, csv rows, maker)."""
    maker = await api_admin(client, sessions)
    checker = await api_admin(client, sessions)
    batch = await make_batch(client, maker, face_value=face_value, count=count)
    r = await client.post(f"/api/v1/admin/card-batches/{batch['id']}/activate", headers=checker["headers"])
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/v1/admin/card-batches/{batch['id']}/export", headers=maker["headers"])
    assert r.status_code == 200, r.text
    return batch, list(csv.DictReader(io.StringIO(r.text))), maker


async def test_card_endpoints_need_an_admin(client: Any, sessions: Any) -> None:
    user = await api_user(client)
    for method, path in [("POST", "/api/v1/admin/card-batches"), ("GET", "/api/v1/admin/card-batches/1"),
                         ("POST", "/api/v1/admin/card-batches/1/activate"),
                         ("GET", "/api/v1/admin/card-batches/1/export"),
                         ("POST", "/api/v1/admin/cards/4111111111111111/sell"),
                         ("POST", "/api/v1/admin/cards/4111111111111111/void"),
                         ("POST", "/api/v1/admin/cards/4111111111111111/refund"),
                         ("POST", "/api/v1/admin/cards/4111111111111111/exchange")]:
        r = await client.request(method, path, json={"face_value": 100, "count": 1, "expires_on": TOMORROW,
                                                     "buyer": "x", "price": 1})
        assert r.status_code == 401, (method, path)
        r = await client.request(method, path, headers=user["headers"],
                                 json={"face_value": 100, "count": 1, "expires_on": TOMORROW, "buyer": "x", "price": 1})
        assert r.status_code == 403, (method, path, r.status_code)
    r = await client.post("/api/v1/cards/redeem", json={"number": "4111111111111111", "secret": "X"})
    assert r.status_code == 401


async def test_create_batch_and_maker_checker(client: Any, sessions: Any) -> None:
    maker = await api_admin(client, sessions)
    checker = await api_admin(client, sessions)
    batch = await make_batch(client, maker, count=5)
    assert batch["status"] == "created"
    assert batch["face_value"] == 100
    assert batch["count"] == 5
    assert batch["created_by"] == maker["username"]

    r = await client.post(f"/api/v1/admin/card-batches/{batch['id']}/activate", headers=maker["headers"])
    assert r.status_code == 403, r.text
    r = await client.post(f"/api/v1/admin/card-batches/{batch['id']}/activate", headers=checker["headers"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "activated"
    assert r.json()["activated_by"] == checker["username"]
    r = await client.post(f"/api/v1/admin/card-batches/{batch['id']}/activate", headers=checker["headers"])
    assert r.status_code == 409
    r = await client.post(f"/api/v1/admin/card-batches/{batch['id']}/activate", headers=maker["headers"])
    assert r.status_code == 403  # the maker never may, whatever the state
    r = await client.post("/api/v1/admin/card-batches/999999/activate", headers=checker["headers"])
    assert r.status_code == 404

    r = await client.get(f"/api/v1/admin/card-batches/{batch['id']}", headers=checker["headers"])
    assert r.status_code == 200
    body = r.json()
    assert (body["issued"], body["new"], body["sold"], body["redeemed"], body["void"]) == (5, 5, 0, 0, 0)
    assert body["coins"]["issued"] == 500
    assert body["issued_coins"] == 500


async def test_create_batch_bad_input_is_400(client: Any, sessions: Any) -> None:
    maker = await api_admin(client, sessions)
    past = (utcnow().date() - timedelta(days=1)).isoformat()
    for body in [{"face_value": 9, "count": 1, "expires_on": TOMORROW},
                 {"face_value": 100_001, "count": 1, "expires_on": TOMORROW},
                 {"face_value": 100, "count": 0, "expires_on": TOMORROW},
                 {"face_value": 100, "count": 10_001, "expires_on": TOMORROW},
                 {"face_value": 100, "count": 1, "expires_on": past},
                 {"face_value": 100, "count": 1, "expires_on": "soon"},
                 {"face_value": "100", "count": 1, "expires_on": TOMORROW},
                 {"face_value": True, "count": 1, "expires_on": TOMORROW},
                 {"face_value": 100, "count": 1, "expires_on": TOMORROW, "note": "x" * 501},
                 {"count": 1, "expires_on": TOMORROW}]:
        r = await client.post("/api/v1/admin/card-batches", headers=maker["headers"], json=body)
        assert r.status_code == 400, (body, r.status_code, r.text)


async def test_export_once_csv_and_secrets_only_hashed(client: Any, sessions: Any,
                                                       session: AsyncSession) -> None:
    maker = await api_admin(client, sessions)
    other = await api_admin(client, sessions)
    batch = await make_batch(client, maker, count=4, face_value=250)
    r = await client.get(f"/api/v1/admin/card-batches/{batch['id']}/export", headers=other["headers"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0] == "number,secret,face_value,expires_on"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 4
    for row in rows:
        assert rules.is_valid_number(row["number"])
        assert rules.is_well_formed_secret(row["secret"])
        assert row["face_value"] == "250"
        assert row["expires_on"] == TOMORROW
    r = await client.get(f"/api/v1/admin/card-batches/{batch['id']}/export", headers=other["headers"])
    assert r.status_code == 409
    stored = await session.scalar(select(CardBatch).where(CardBatch.id == batch["id"]))
    assert stored is not None
    assert stored.secrets_enc is None  # wiped in the export's transaction
    raw = (await session.execute(select(CardBatch.__table__.c.secrets_enc))).scalars().all()
    assert not any(rows[0]["secret"] in (v or "") for v in raw)


async def test_redeem_credits_and_second_redeem_is_409(client: Any, sessions: Any, session: AsyncSession) -> None:
    _batch, rows, _maker = await ready_batch(client, sessions, face_value=300)
    user = await api_user(client)
    r = await client.post("/api/v1/cards/redeem", headers=user["headers"],
                          json={"number": rows[0]["number"], "secret": rows[0]["secret"].lower()})
    assert r.status_code == 200, r.text
    assert r.json()["coins"] == 300
    assert r.json()["available"] == 300
    r = await client.get("/api/v1/wallet", headers=user["headers"])
    assert r.json()["available"] == 300
    r = await client.post("/api/v1/cards/redeem", headers=user["headers"],
                          json={"number": rows[0]["number"], "secret": rows[0]["secret"]})
    assert r.status_code == 409
    # A wrong secret on a redeemed card says nothing about its state.
    r = await client.post("/api/v1/cards/redeem", headers=user["headers"],
                          json={"number": rows[0]["number"], "secret": "A" * 16})
    assert r.status_code == 400
    assert r.json()["detail"] == INVALID_CARD_MESSAGE
    report = await audit(session)
    assert report.ok, report.text()
    assert report.platform_balances["card_float"] == -300


async def test_one_message_for_every_wrong_card(client: Any, sessions: Any) -> None:
    maker = await api_admin(client, sessions)
    checker = await api_admin(client, sessions)
    pending = await make_batch(client, maker, count=1)  # never activated
    r = await client.get(f"/api/v1/admin/card-batches/{pending['id']}/export", headers=maker["headers"])
    pending_row = next(csv.DictReader(io.StringIO(r.text)))
    _batch, rows, _ = await ready_batch(client, sessions, count=3)
    r = await client.post(f"/api/v1/admin/cards/{rows[1]['number']}/void", headers=checker["headers"])
    assert r.status_code == 200
    expired_batch, expired_rows, _ = await ready_batch(client, sessions, count=1)
    async with sessions() as s, s.begin():
        await s.execute(update(CardBatch).where(CardBatch.id == expired_batch["id"])
                        .values(expires_on=utcnow().date() - timedelta(days=1)))

    good = rows[0]
    unknown = rules.new_number()
    bad_check = good["number"][:-1] + str((int(good["number"][-1]) + 1) % 10)
    cases = [
        {"number": unknown, "secret": good["secret"]},                         # unknown number
        {"number": good["number"], "secret": "B" * 16},                        # wrong secret
        {"number": bad_check, "secret": good["secret"]},                       # bad check digit
        {"number": pending_row["number"], "secret": pending_row["secret"]},    # not activated
        {"number": rows[1]["number"], "secret": rows[1]["secret"]},            # void
        {"number": expired_rows[0]["number"], "secret": expired_rows[0]["secret"]},  # expired
        {"number": "12", "secret": ""},                                        # malformed
    ]
    details = set()
    for i, body in enumerate(cases):
        user = await api_user(client)  # a fresh user each time: no throttling in the way
        r = await client.post("/api/v1/cards/redeem", headers=user["headers"], json=body)
        assert r.status_code == 400, (i, r.status_code, r.text)
        details.add(r.json()["detail"])
    assert details == {INVALID_CARD_MESSAGE}


async def test_malformed_redeem_bodies_are_400(client: Any) -> None:
    user = await api_user(client)
    for body in [{"number": 4111111111111111, "secret": "A" * 16}, {"number": "4111111111111111"},
                 {"number": "4" * 65, "secret": "A" * 16}, [], "x"]:
        r = await client.post("/api/v1/cards/redeem", headers=user["headers"], json=body)
        assert r.status_code == 400, (body, r.status_code)


async def test_five_wrong_secrets_lock_the_card(client: Any, sessions: Any) -> None:
    _batch, rows, _ = await ready_batch(client, sessions, count=1)
    card = rows[0]
    for _ in range(5):
        attacker = await api_user(client)  # spread over users: the lock is per card
        r = await client.post("/api/v1/cards/redeem", headers=attacker["headers"],
                              json={"number": card["number"], "secret": "C" * 16})
        assert r.status_code == 400
    owner = await api_user(client)
    r = await client.post("/api/v1/cards/redeem", headers=owner["headers"], json=card)
    assert r.status_code == 400
    assert r.json()["detail"] == INVALID_CARD_MESSAGE
    admin = await api_admin(client, sessions)
    r = await client.get(f"/api/v1/admin/cards/{card['number']}", headers=admin["headers"])
    assert r.status_code == 200
    assert r.json()["card"]["status"] == "new"
    assert "lock" in [e["action"] for e in r.json()["events"]]


async def test_four_wrong_secrets_do_not_lock(client: Any, sessions: Any) -> None:
    _batch, rows, _ = await ready_batch(client, sessions, count=1)
    user = await api_user(client)
    for _ in range(4):
        r = await client.post("/api/v1/cards/redeem", headers=user["headers"],
                              json={"number": rows[0]["number"], "secret": "D" * 16})
        assert r.status_code == 400
    r = await client.post("/api/v1/cards/redeem", headers=user["headers"], json=rows[0])
    assert r.status_code == 200, r.text


async def test_ten_failures_per_user_per_hour_is_429(client: Any, sessions: Any) -> None:
    _batch, rows, _ = await ready_batch(client, sessions, count=1)
    user = await api_user(client)
    for _ in range(10):
        r = await client.post("/api/v1/cards/redeem", headers=user["headers"],
                              json={"number": rules.new_number(), "secret": "E" * 16})
        assert r.status_code == 400
    r = await client.post("/api/v1/cards/redeem", headers=user["headers"], json=rows[0])
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 3600
    other = await api_user(client)
    r = await client.post("/api/v1/cards/redeem", headers=other["headers"], json=rows[0])
    assert r.status_code == 200


async def test_sell_refund_void_exchange(client: Any, sessions: Any, session: AsyncSession) -> None:
    batch, rows, maker = await ready_batch(client, sessions, count=4, face_value=50)
    admin = await api_admin(client, sessions)
    h = admin["headers"]
    n0, n1, n2, n3 = (row["number"] for row in rows)

    r = await client.post(f"/api/v1/admin/cards/{n0}/sell", headers=h, json={"buyer": "Wang Fang", "price": 45})
    assert r.status_code == 200, r.text
    assert r.json()["number"] == n0
    assert r.json()["status"] == "sold"
    r = await client.post(f"/api/v1/admin/cards/{n0}/sell", headers=h, json={"buyer": "Li", "price": 45})
    assert r.status_code == 409
    r = await client.post(f"/api/v1/admin/cards/{n1}/sell", headers=h, json={"buyer": "", "price": 45})
    assert r.status_code == 400
    r = await client.post(f"/api/v1/admin/cards/{n1}/sell", headers=h, json={"buyer": "Li", "price": -1})
    assert r.status_code == 400

    r = await client.post(f"/api/v1/admin/cards/{n1}/refund", headers=h)
    assert r.status_code == 409  # not sold
    r = await client.post(f"/api/v1/admin/cards/{n0}/refund", headers=h)
    assert r.status_code == 200
    assert r.json()["status"] == "void"
    r = await client.post(f"/api/v1/admin/cards/{n0}/void", headers=h)
    assert r.status_code == 409

    r = await client.post(f"/api/v1/admin/cards/{n1}/sell", headers=h, json={"buyer": "Zhang", "price": 50})
    assert r.status_code == 200
    r = await client.post(f"/api/v1/admin/cards/{n1}/exchange", headers=h)
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["status"] == "sold"
    assert new["replaces"] == n1
    assert new["number"] != n1
    assert rules.is_valid_number(new["number"])
    assert rules.is_well_formed_secret(new["secret"])
    user = await api_user(client)
    r = await client.post("/api/v1/cards/redeem", headers=user["headers"], json=rows[1])
    assert r.status_code == 400  # the old card is void
    r = await client.post("/api/v1/cards/redeem", headers=user["headers"],
                          json={"number": new["number"], "secret": new["secret"]})
    assert r.status_code == 200, r.text

    r = await client.post(f"/api/v1/admin/cards/{n2}/void", headers=h)
    assert r.status_code == 200
    r = await client.post("/api/v1/cards/redeem", headers=user["headers"], json=rows[3])
    assert r.status_code == 200
    for action in ("void", "refund", "exchange"):
        r = await client.post(f"/api/v1/admin/cards/{n3}/{action}", headers=h)
        assert r.status_code == 409, action
    r = await client.post(f"/api/v1/admin/cards/{n3}/sell", headers=h, json={"buyer": "x", "price": 1})
    assert r.status_code == 409
    r = await client.post("/api/v1/admin/cards/1234/void", headers=h)
    assert r.status_code == 404

    r = await client.get(f"/api/v1/admin/card-batches/{batch['id']}", headers=h)
    body = r.json()
    assert (body["issued"], body["new"], body["sold"], body["redeemed"], body["void"]) == (5, 0, 0, 2, 3)
    assert body["coins"] == {"issued": 250, "new": 0, "sold": 0, "redeemed": 100, "void": 150}
    # n0 (sold, refunded) and n1's sale, which moved to its replacement: counted once.
    assert body["sales"] == {"count": 2, "price_total": 95}
    assert body["refunds"] == {"count": 1, "price_total": 45}

    r = await client.get(f"/api/v1/admin/card-batches/{batch['id']}/events", headers=h)
    assert r.status_code == 200
    steps = [(e["action"], e["actor"]) for e in reversed(r.json())]
    assert steps[:3] == [("create", maker["username"]), ("activate", steps[1][1]), ("export", maker["username"])]
    assert steps[1][1] != maker["username"]
    assert [a for a, _ in steps[3:]] == ["sell", "refund", "sell", "exchange", "issue", "redeem", "void", "redeem"]
    r = await client.get("/api/v1/admin/card-batches/999999/events", headers=h)
    assert r.status_code == 404

    r = await client.get(f"/api/v1/admin/cards/{n1}", headers=h)
    actions = [e["action"] for e in r.json()["events"]]
    assert actions == ["exchange", "sell"]
    assert all(e["actor"] == admin["username"] for e in r.json()["events"])
    report = await audit(session)
    assert report.ok, report.text()
    assert report.platform_balances["card_float"] == -100


async def test_sell_needs_an_activated_batch(client: Any, sessions: Any) -> None:
    maker = await api_admin(client, sessions)
    batch = await make_batch(client, maker, count=1)
    r = await client.get(f"/api/v1/admin/card-batches/{batch['id']}/export", headers=maker["headers"])
    number = next(csv.DictReader(io.StringIO(r.text)))["number"]
    r = await client.post(f"/api/v1/admin/cards/{number}/sell", headers=maker["headers"],
                          json={"buyer": "x", "price": 1})
    assert r.status_code == 409


async def test_list_batches_and_openapi(client: Any, sessions: Any, app: Any) -> None:
    maker = await api_admin(client, sessions)
    await make_batch(client, maker, count=2)
    r = await client.get("/api/v1/admin/card-batches", headers=maker["headers"])
    assert r.status_code == 200
    assert r.json()[0]["issued"] == 2
    schema = (await client.get("/schema/openapi.json")).json()
    for path in ("/api/v1/admin/card-batches", "/api/v1/admin/card-batches/{batch_id}/activate",
                 "/api/v1/admin/card-batches/{batch_id}/export", "/api/v1/admin/cards/{number}/sell",
                 "/api/v1/cards/redeem"):
        assert path in schema["paths"], path


async def test_ten_thousand_cards_are_created_fast(client: Any, sessions: async_sessionmaker[AsyncSession]) -> None:
    import time

    maker = await api_admin(client, sessions)
    started = time.monotonic()
    batch = await make_batch(client, maker, count=10_000, face_value=10)
    elapsed = time.monotonic() - started
    assert elapsed < 20, elapsed  # shared 2-core CI box; locally ~1-2 s
    r = await client.get(f"/api/v1/admin/card-batches/{batch['id']}/export", headers=maker["headers"])
    rows = r.text.splitlines()
    assert len(rows) == 10_001
    assert len({line.split(",")[0] for line in rows[1:]}) == 10_000
