"""The card pages as a browser without JavaScript uses them: /cards/redeem and /admin/cards (forms with CSRF)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.cards.exceptions import INVALID_CARD_MESSAGE
from marketplace.cards.services import CardService
from marketplace.db import utcnow
from marketplace.settings import Settings
from tests.factories import db_user, html_login, html_post, quick_user

SOON = (utcnow().date() + timedelta(days=10)).isoformat()


async def _cards(sessions: async_sessionmaker[AsyncSession], settings: Settings, n: int = 2,
                 face_value: int = 120) -> list[dict[str, str]]:
    async with sessions() as s, s.begin():
        maker, checker = await quick_user(s), await quick_user(s)
        svc = CardService(s, settings)
        batch = await svc.create_batch(maker.id, face_value=face_value, count=n,
                                       expires_on=utcnow().date() + timedelta(days=3))
        await svc.activate(batch.id, checker.id)
        return list(csv.DictReader(io.StringIO(await svc.export(batch.id, maker.id))))


async def test_redeem_page_needs_login(client: Any) -> None:
    r = await client.get("/cards/redeem", follow_redirects=False)
    assert r.status_code in (302, 303)
    assert r.headers["location"].startswith("/login")


async def test_redeem_through_the_form(client: Any, sessions: Any, settings: Settings) -> None:
    rows = await _cards(sessions, settings)
    user = await db_user(sessions)
    await html_login(client, user.username)
    wallet = await client.get("/wallet")
    assert 'href="/cards/redeem"' in wallet.text
    page = await client.get("/cards/redeem")
    assert page.status_code == 200
    assert 'name="_csrf_token"' in page.text

    r = await client.post("/cards/redeem", data={"number": rows[0]["number"], "secret": rows[0]["secret"]},
                          follow_redirects=False)
    assert r.status_code == 403  # no CSRF token

    spaced = " ".join(rows[0]["number"][i:i + 4] for i in range(0, 16, 4))
    r = await html_post(client, "/cards/redeem", {"number": spaced, "secret": rows[0]["secret"].lower()})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/cards/redeem"
    page = await client.get("/cards/redeem")
    assert "120 coins were added" in page.text
    assert 'data-coins="120"' in (await client.get("/wallet")).text

    r = await html_post(client, "/cards/redeem", {"number": rows[0]["number"], "secret": rows[0]["secret"]})
    assert r.status_code == 409
    r = await html_post(client, "/cards/redeem", {"number": rows[1]["number"], "secret": "X" * 16})
    assert r.status_code == 400
    assert INVALID_CARD_MESSAGE in r.text
    assert rows[1]["number"] in r.text  # the number is kept in the form


async def test_redeem_form_throttles_with_retry_after(client: Any, sessions: Any, settings: Settings) -> None:
    rows = await _cards(sessions, settings, n=1)
    user = await db_user(sessions)
    await html_login(client, user.username)
    for _ in range(10):
        r = await html_post(client, "/cards/redeem", {"number": "4111111111111111", "secret": "X" * 16})
        assert r.status_code == 400
    r = await html_post(client, "/cards/redeem", rows[0])
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1


async def test_admin_cards_page_maker_checker_export_and_actions(client: Any, sessions: Any) -> None:
    maker = await db_user(sessions, is_admin=True)
    checker = await db_user(sessions, is_admin=True)
    await html_login(client, maker.username)
    dash = await client.get("/admin/")
    assert 'href="/admin/cards"' in dash.text

    r = await html_post(client, "/admin/cards/batches",
                        {"face_value": "0", "count": "2", "expires_on": SOON, "note": ""})
    assert r.status_code == 303
    assert "Face value" in (await client.get("/admin/cards")).text  # the error flash
    r = await html_post(client, "/admin/cards/batches",
                        {"face_value": "200", "count": "3", "expires_on": SOON, "note": "Spring fair"})
    assert r.status_code == 303
    page = await client.get("/admin/cards")
    assert page.status_code == 200
    batch_id = int(re.search(r'id="batch-(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    assert "Spring fair" in page.text
    assert "awaiting another admin" in page.text

    r = await html_post(client, f"/admin/cards/batches/{batch_id}/activate", {})
    assert r.status_code == 303
    assert "cannot activate" in (await client.get("/admin/cards")).text

    r = await html_post(client, f"/admin/cards/batches/{batch_id}/export", {})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 3
    r = await html_post(client, f"/admin/cards/batches/{batch_id}/export", {})
    assert r.status_code == 303
    assert "only once" in (await client.get("/admin/cards")).text

    await html_login(client, checker.username)  # the same browser, now the checker
    await html_login(client, checker.username)
    r = await html_post(client, f"/admin/cards/batches/{batch_id}/activate", {})
    assert r.status_code == 303
    page = (await client.get("/admin/cards")).text
    assert "activated" in page

    number = rows[0]["number"]
    lookup = await client.get(f"/admin/cards?number={number}")
    assert 'id="card-detail"' in lookup.text
    assert 'id="sell-form"' in lookup.text
    r = await html_post(client, f"/admin/cards/{number}/sell", {"buyer": "Chen Jing", "price": "190"})
    assert r.status_code == 303
    assert r.headers["location"] == f"/admin/cards?number={number}"
    assert "sold to Chen Jing" in (await client.get(r.headers["location"])).text
    r = await html_post(client, f"/admin/cards/{number}/sell", {"buyer": "Again", "price": "1"})
    assert r.status_code == 303
    assert "Cannot sell" in (await client.get(r.headers["location"])).text

    r = await html_post(client, f"/admin/cards/{number}/exchange", {})
    assert r.status_code == 303
    page = (await client.get(r.headers["location"])).text
    secret = re.search(r"secret ([2-9A-Z]{16})", page)
    assert secret is not None
    assert "exchanged for" in page
    r = await html_post(client, f"/admin/cards/{rows[1]['number']}/void", {})
    assert r.status_code == 303
    page = (await client.get("/admin/cards")).text
    for action in ("create", "activate", "export", "sell", "exchange", "issue", "void"):
        assert f"<td>{action}</td>" in page, action
    assert f"<td>{checker.username}</td>" in page
    assert f"<td>{maker.username}</td>" in page


async def test_admin_cards_page_is_for_admins(client: Any, sessions: Any) -> None:
    user = await db_user(sessions)
    await html_login(client, user.username)
    assert (await client.get("/admin/cards")).status_code == 403
    r = await html_post(client, "/admin/cards/batches", {"face_value": "100", "count": "1", "expires_on": SOON})
    assert r.status_code == 403
