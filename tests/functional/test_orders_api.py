"""docs/api.md "Orders and feedback" over HTTP on PostgreSQL: every endpoint, its success and its errors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.accounts.services import AccountService
from tests.factories import api_user, fund, ledger_problems, make_order, quick_user

ORDER_FIELDS = {"id", "listing_id", "buyer_id", "seller_id", "quantity", "unit_price", "total", "fee", "status",
                "created_at", "shipped_at", "completed_at"}
Sessions = async_sessionmaker[AsyncSession]


async def seed_order(sessions: Sessions, seller: dict[str, Any], buyer: dict[str, Any], price: int = 100,
                     quantity: int = 1) -> int:
    async with sessions() as s, s.begin():
        await fund(s, buyer["id"], price * quantity)
        order = await make_order(s, seller=await s.get(User, seller["id"]), buyer=await s.get(User, buyer["id"]),
                                 price=price, quantity=quantity)
        return int(order.id)


async def token_user(sessions: Sessions, *, is_admin: bool = False) -> dict[str, Any]:
    """A user with a real bearer token, minus the password hashing (registration has its own tests)."""
    async with sessions() as s, s.begin():
        user = await quick_user(s)
        user.is_admin = is_admin
        token = await AccountService(s).issue_token(user)
        return {"id": user.id, "username": user.username, "headers": {"Authorization": f"Bearer {token}"}}


@pytest.fixture
async def parties(client: Any, sessions: Sessions) -> dict[str, Any]:
    seller, buyer, stranger = await api_user(client), await token_user(sessions), await token_user(sessions)
    return {"seller": seller, "buyer": buyer, "stranger": stranger,
            "admin": await token_user(sessions, is_admin=True),
            "order_id": await seed_order(sessions, seller, buyer, price=100)}


async def wallet(client: Any, who: dict[str, Any]) -> dict[str, int]:
    r = await client.get("/api/v1/me", headers=who["headers"])
    return dict(r.json()["wallet"])


async def test_full_life_ship_confirm_feedback(client: Any, parties: dict[str, Any], sessions: Sessions) -> None:
    p, oid = parties, parties["order_id"]
    r = await client.get(f"/api/v1/orders/{oid}", headers=p["buyer"]["headers"])
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= ORDER_FIELDS
    assert body["status"] == "paid"
    assert (body["buyer_id"], body["seller_id"], body["total"], body["fee"]) == (p["buyer"]["id"], p["seller"]["id"],
                                                                                 100, 0)
    assert body["shipped_at"] is None
    assert body["completed_at"] is None

    r = await client.post(f"/api/v1/orders/{oid}/ship", json={"tracking": "SF1234"}, headers=p["seller"]["headers"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "shipped"
    assert r.json()["tracking"] == "SF1234"
    assert r.json()["shipped_at"].endswith("Z")

    r = await client.post(f"/api/v1/orders/{oid}/confirm", headers=p["buyer"]["headers"])
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["fee"]) == ("completed", 5)
    assert r.json()["completed_at"]
    assert await wallet(client, p["seller"]) == {"available": 95, "held": 0}
    assert await wallet(client, p["buyer"]) == {"available": 0, "held": 0}

    r = await client.post(f"/api/v1/orders/{oid}/feedback", json={"rating": "positive", "comment": "Great seller"},
                          headers=p["buyer"]["headers"])
    assert r.status_code == 201, r.text
    assert r.json()["to_user_id"] == p["seller"]["id"]
    r = await client.post(f"/api/v1/orders/{oid}/feedback", json={"rating": "neutral", "comment": "again"},
                          headers=p["buyer"]["headers"])
    assert r.status_code == 409
    r = await client.post(f"/api/v1/orders/{oid}/feedback", json={"rating": "positive", "comment": "Quick payer"},
                          headers=p["seller"]["headers"])
    assert r.status_code == 201
    r = await client.post(f"/api/v1/orders/{oid}/feedback", json={"rating": "positive"},
                          headers=p["stranger"]["headers"])
    assert r.status_code == 403
    r = await client.post(f"/api/v1/orders/{oid}/feedback", json={"rating": "great"}, headers=p["seller"]["headers"])
    assert r.status_code == 400

    page = await client.get(f"/users/{p['seller']['username']}")
    assert "Feedback score 1" in page.text
    assert "100.0% positive" in page.text
    assert "Great seller" in page.text
    async with sessions() as s:
        assert await ledger_problems(s) == []


async def test_visibility_and_auth(client: Any, parties: dict[str, Any]) -> None:
    p, oid = parties, parties["order_id"]
    assert (await client.get(f"/api/v1/orders/{oid}")).status_code == 401
    assert (await client.post(f"/api/v1/orders/{oid}/ship")).status_code == 401
    assert (await client.get("/api/v1/orders")).status_code == 401
    assert (await client.get(f"/api/v1/orders/{oid}", headers=p["stranger"]["headers"])).status_code == 404
    assert (await client.get(f"/api/v1/orders/{oid}", headers=p["seller"]["headers"])).status_code == 200
    assert (await client.get(f"/api/v1/orders/{oid}", headers=p["admin"]["headers"])).status_code == 200
    assert (await client.get("/api/v1/orders/999999", headers=p["buyer"]["headers"])).status_code == 404
    for action in ("ship", "confirm", "cancel"):
        assert (await client.post(f"/api/v1/orders/999999/{action}", headers=p["buyer"]["headers"])).status_code \
            == 404


async def test_list_by_role_with_paging(client: Any, parties: dict[str, Any], sessions: Sessions) -> None:
    p = parties
    second = await seed_order(sessions, p["seller"], p["buyer"], price=10)
    reverse = await seed_order(sessions, p["buyer"], p["seller"], price=7)  # the buyer sells something too
    r = await client.get("/api/v1/orders?role=buyer", headers=p["buyer"]["headers"])
    assert r.status_code == 200
    body = r.json()
    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 20)
    assert [o["id"] for o in body["items"]] == [second, p["order_id"]]  # newest first
    assert set(body["items"][0]) >= ORDER_FIELDS
    r = await client.get("/api/v1/orders?role=seller", headers=p["buyer"]["headers"])
    assert [o["id"] for o in r.json()["items"]] == [reverse]
    r = await client.get("/api/v1/orders?role=buyer&page=2&per_page=1", headers=p["buyer"]["headers"])
    assert (r.json()["total"], [o["id"] for o in r.json()["items"]]) == (2, [p["order_id"]])
    r = await client.get("/api/v1/orders", headers=p["buyer"]["headers"])
    assert r.json()["total"] == 3
    assert (await client.get("/api/v1/orders?role=thief", headers=p["buyer"]["headers"])).status_code == 400
    assert (await client.get("/api/v1/orders?per_page=0", headers=p["buyer"]["headers"])).status_code == 400
    r = await client.get("/api/v1/orders?role=buyer", headers=p["stranger"]["headers"])
    assert r.json() == {"items": [], "total": 0, "page": 1, "per_page": 20}


async def test_ship_errors(client: Any, parties: dict[str, Any]) -> None:
    p, oid = parties, parties["order_id"]
    for who in ("buyer", "stranger", "admin"):
        r = await client.post(f"/api/v1/orders/{oid}/ship", headers=p[who]["headers"])
        assert r.status_code == 403, who
    r = await client.post(f"/api/v1/orders/{oid}/ship", headers=p["seller"]["headers"])  # no body: tracking optional
    assert r.status_code == 200
    assert r.json()["tracking"] is None
    r = await client.post(f"/api/v1/orders/{oid}/ship", json={"tracking": "x"}, headers=p["seller"]["headers"])
    assert r.status_code == 409
    assert r.json()["detail"]


async def test_confirm_errors(client: Any, parties: dict[str, Any]) -> None:
    p, oid = parties, parties["order_id"]
    assert (await client.post(f"/api/v1/orders/{oid}/confirm", headers=p["buyer"]["headers"])).status_code == 409
    await client.post(f"/api/v1/orders/{oid}/ship", headers=p["seller"]["headers"])
    for who in ("seller", "stranger", "admin"):
        assert (await client.post(f"/api/v1/orders/{oid}/confirm", headers=p[who]["headers"])).status_code == 403
    assert (await client.post(f"/api/v1/orders/{oid}/confirm", headers=p["buyer"]["headers"])).status_code == 200
    assert (await client.post(f"/api/v1/orders/{oid}/confirm", headers=p["buyer"]["headers"])).status_code == 409
    assert await wallet(client, p["seller"]) == {"available": 95, "held": 0}  # paid once


async def test_cancel_refunds_and_errors(client: Any, parties: dict[str, Any], sessions: Sessions) -> None:
    p, oid = parties, parties["order_id"]
    assert (await client.post(f"/api/v1/orders/{oid}/cancel", headers=p["stranger"]["headers"])).status_code == 403
    r = await client.post(f"/api/v1/orders/{oid}/cancel", headers=p["buyer"]["headers"])
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    assert await wallet(client, p["buyer"]) == {"available": 100, "held": 0}
    assert (await client.post(f"/api/v1/orders/{oid}/cancel", headers=p["seller"]["headers"])).status_code == 409
    assert await wallet(client, p["buyer"]) == {"available": 100, "held": 0}  # refunded once

    shipped = await seed_order(sessions, p["seller"], p["buyer"], price=10)
    await client.post(f"/api/v1/orders/{shipped}/ship", headers=p["seller"]["headers"])
    for who in ("buyer", "seller"):
        r = await client.post(f"/api/v1/orders/{shipped}/cancel", headers=p[who]["headers"])
        assert r.status_code == 409, who
    r = await client.post(f"/api/v1/orders/{shipped}/feedback", json={"rating": "negative"},
                          headers=p["buyer"]["headers"])
    assert r.status_code == 409  # shipped: not completed nor cancelled
    r = await client.post(f"/api/v1/orders/{oid}/feedback", json={"rating": "negative"}, headers=p["buyer"]["headers"])
    assert r.status_code == 201  # docs/rules.md §19.1: feedback stays possible on a cancelled order


async def test_dispute_and_resolve(client: Any, parties: dict[str, Any], sessions: Sessions) -> None:
    p, oid = parties, parties["order_id"]
    r = await client.post(f"/api/v1/orders/{oid}/dispute", json={"reason": "never came"}, headers=p["buyer"]["headers"])
    assert r.status_code == 409  # not shipped yet
    await client.post(f"/api/v1/orders/{oid}/ship", headers=p["seller"]["headers"])
    r = await client.post(f"/api/v1/orders/{oid}/dispute", json={"reason": "x"}, headers=p["seller"]["headers"])
    assert r.status_code == 403
    r = await client.post(f"/api/v1/orders/{oid}/dispute", json={}, headers=p["buyer"]["headers"])
    assert r.status_code == 400
    r = await client.post(f"/api/v1/orders/{oid}/dispute", json={"reason": "never came"}, headers=p["buyer"]["headers"])
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["dispute_reason"]) == ("disputed", "never came")
    assert (await client.post(f"/api/v1/orders/{oid}/confirm", headers=p["buyer"]["headers"])).status_code == 409

    url = f"/api/v1/admin/orders/{oid}/resolve"
    assert (await client.post(url, json={"outcome": "refund"})).status_code == 401
    for who in ("buyer", "seller", "stranger"):
        assert (await client.post(url, json={"outcome": "refund"}, headers=p[who]["headers"])).status_code == 403
    assert (await client.post(url, json={"outcome": "keep"}, headers=p["admin"]["headers"])).status_code == 400
    r = await client.post(url, json={"outcome": "refund"}, headers=p["admin"]["headers"])
    assert r.status_code == 200
    assert r.json()["status"] == "refunded"
    assert await wallet(client, p["buyer"]) == {"available": 100, "held": 0}
    assert (await client.post(url, json={"outcome": "release"}, headers=p["admin"]["headers"])).status_code == 409
    assert (await client.post("/api/v1/admin/orders/999999/resolve", json={"outcome": "refund"},
                              headers=p["admin"]["headers"])).status_code == 404

    other = await seed_order(sessions, p["seller"], p["buyer"], price=300)
    await client.post(f"/api/v1/orders/{other}/ship", headers=p["seller"]["headers"])
    await client.post(f"/api/v1/orders/{other}/dispute", json={"reason": "late"}, headers=p["buyer"]["headers"])
    r = await client.post(f"/api/v1/admin/orders/{other}/resolve", json={"outcome": "release"},
                          headers=p["admin"]["headers"])
    assert (r.status_code, r.json()["status"], r.json()["fee"]) == (200, "completed", 15)
    assert await wallet(client, p["seller"]) == {"available": 285, "held": 0}
    async with sessions() as s:
        assert await ledger_problems(s) == []


async def test_openapi_describes_the_order_endpoints(client: Any) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in ("/api/v1/orders", "/api/v1/orders/{order_id}", "/api/v1/orders/{order_id}/ship",
                 "/api/v1/orders/{order_id}/confirm", "/api/v1/orders/{order_id}/cancel",
                 "/api/v1/orders/{order_id}/dispute", "/api/v1/orders/{order_id}/feedback",
                 "/api/v1/admin/orders/{order_id}/resolve"):
        assert path in paths, path
