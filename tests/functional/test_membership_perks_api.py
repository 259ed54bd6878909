"""docs/api.md "Membership, points, coupons, PLUS": POST /plus, its perks, member-day prices, GET /member-day,
``your_price``, PLUS auto-renewal exactly once; the ledger audit balances after each."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.membership import services as membership
from marketplace.membership.models import PlusMembership
from marketplace.orders.services import OrderService
from marketplace.settings import Settings
from marketplace.wallet import ledger
from tests.factories import fund, make_order
from tests.functional.test_membership_api import assert_audit_ok, listing, token_user

Sessions = async_sessionmaker[AsyncSession]


def today_day() -> int:
    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).day


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Today (platform time) is the member day."""
    return dataclasses.replace(settings, member_day=today_day())


async def reach_level(sessions: Sessions, user_id: int, spend: int) -> None:
    """A completed purchase of ``spend`` coins (J2 from 10,001)."""
    async with sessions() as s, s.begin():
        buyer = await s.get(User, user_id)
        assert buyer is not None
        await fund(s, user_id, spend)
        order = await make_order(s, buyer=buyer, price=spend)
        svc = OrderService(s)
        await svc.ship(order.id, order.seller_id)
        await svc.confirm(order.id, user_id)


async def coins(sessions: Sessions, user_id: int) -> int:
    async with sessions() as s:
        return await ledger.balance(s, ledger.available(user_id))


async def test_plus_buy_then_409_and_membership_shows_it(client: Any, sessions: Sessions) -> None:
    user = await token_user(sessions, coins=2000)
    r = await client.post("/api/v1/plus", json={"auto_renew": True}, headers=user["headers"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["active"] is True
    assert body["auto_renew"] is True
    assert body["until"]
    assert await coins(sessions, user["id"]) == 2000 - 1490
    r = await client.post("/api/v1/plus", json={"auto_renew": False}, headers=user["headers"])
    assert r.status_code == 409
    assert await coins(sessions, user["id"]) == 510
    r = await client.get("/api/v1/me/membership", headers=user["headers"])
    assert r.json()["plus"] == body
    async with sessions() as s:
        assert await ledger.balance(s, ledger.platform("revenue")) >= 1490
    await assert_audit_ok(sessions)


async def test_plus_402_changes_nothing(client: Any, sessions: Sessions) -> None:
    user = await token_user(sessions, coins=1489)
    r = await client.post("/api/v1/plus", json={"auto_renew": False}, headers=user["headers"])
    assert r.status_code == 402
    assert await coins(sessions, user["id"]) == 1489
    r = await client.get("/api/v1/me/membership", headers=user["headers"])
    assert r.json()["plus"] == {"active": False, "until": None, "auto_renew": False}
    assert (await client.post("/api/v1/plus", json={})).status_code == 401


async def test_plus_perks_plus_price_free_shipping_points_x10(client: Any, sessions: Sessions) -> None:
    seller, buyer = await token_user(sessions), await token_user(sessions, coins=5000)
    lid = await listing(sessions, seller, price=1000, shipping_fee=60)
    async with sessions() as s, s.begin():
        from marketplace.listings.models import Listing
        row = await s.get(Listing, lid)
        assert row is not None
        row.plus_price = 850
    r = await client.get(f"/api/v1/listings/{lid}", headers=buyer["headers"])
    assert (r.json()["plus_price"], r.json()["your_price"]) == (850, 1000)
    assert (await client.post("/api/v1/plus", json={}, headers=buyer["headers"])).status_code == 201
    r = await client.get(f"/api/v1/listings/{lid}", headers=buyer["headers"])
    assert r.json()["your_price"] == 850
    assert (await client.get(f"/api/v1/listings/{lid}")).json()["your_price"] is None
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"quantity": 1}, headers=buyer["headers"])
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["items_total"], order["shipping_fee"], order["platform_paid"], order["total"]) == (850, 60, 60,
                                                                                                     850)
    assert order["discounts"] == [{"kind": "plus_price", "coins": 150}, {"kind": "free_shipping", "coins": 60}]
    assert await coins(sessions, buyer["id"]) == 5000 - 1490 - 850
    async with sessions() as s:
        assert await ledger.balance(s, ledger.points_frozen(buyer["id"])) == 850  # 85 × 10
    await assert_audit_ok(sessions)


async def test_create_listing_with_member_day_and_plus_price(client: Any, sessions: Sessions) -> None:
    seller = await token_user(sessions, coins=1000)
    async with sessions() as s, s.begin():
        from tests.factories import make_category
        cat = await make_category(s)
    base = {"title": "Tea set", "category_id": cat.id, "mode": "fixed", "price": 1000, "quantity": 2}
    r = await client.post("/api/v1/listings", json={**base, "plus_price": 1000}, headers=seller["headers"])
    assert r.status_code == 400
    r = await client.post("/api/v1/listings", json={**base, "member_day": "yes"}, headers=seller["headers"])
    assert r.status_code == 400
    r = await client.post("/api/v1/listings", json={**base, "member_day": True, "plus_price": 900},
                          headers=seller["headers"])
    assert r.status_code == 201, r.text
    assert (r.json()["member_day"], r.json()["plus_price"], r.json()["shipping_fee"]) == (True, 900, 0)


async def test_j2_buys_on_member_day_seller_funded(client: Any, sessions: Sessions) -> None:
    seller, buyer = await token_user(sessions), await token_user(sessions, coins=3000)
    await reach_level(sessions, buyer["id"], 10_001)
    lid = await listing(sessions, seller, price=1001)
    async with sessions() as s, s.begin():
        from marketplace.listings.models import Listing
        row = await s.get(Listing, lid)
        assert row is not None
        row.member_day = True
    r = await client.get("/api/v1/member-day", headers=buyer["headers"])
    assert r.status_code == 200
    zone = r.json()
    assert (zone["active_today"], zone["discount_for_you"]) == (True, 10)
    assert [item["id"] for item in zone["items"]] == [lid]
    assert zone["items"][0]["your_price"] == 901  # ceil(1001 × 0.9)
    anon = (await client.get("/api/v1/member-day")).json()
    assert anon["discount_for_you"] == 0
    assert anon["items"][0]["your_price"] is None
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"quantity": 2}, headers=buyer["headers"])
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["items_total"], order["platform_paid"], order["total"]) == (1802, 0, 1802)
    assert order["discounts"] == [{"kind": "member_day", "coins": 200}]
    assert await coins(sessions, buyer["id"]) == 3000 - 1802
    await assert_audit_ok(sessions)


async def test_plus_auto_renew_exactly_once_then_lapse(sessions: Sessions) -> None:
    settings = Settings()
    user = await token_user(sessions, coins=1490 * 2 + 100)
    now = utcnow()
    async with sessions() as s, s.begin():
        await membership.buy_plus(s, user["id"], auto_renew=True, now=now, settings=settings)
    end = now + timedelta(days=365)
    async with sessions() as s, s.begin():
        assert await membership.plus_due(s, end - timedelta(seconds=1)) == []
        assert await membership.renew_plus(s, user["id"], end - timedelta(seconds=1), settings) == "noop"
    for expected in ("renewed", "noop"):  # a re-run job does nothing
        async with sessions() as s, s.begin():
            assert await membership.renew_plus(s, user["id"], end, settings) == expected
    assert await coins(sessions, user["id"]) == 100
    end2 = end + timedelta(days=365)
    async with sessions() as s, s.begin():
        assert await membership.plus_due(s, end2) == [user["id"]]
        assert await membership.renew_plus(s, user["id"], end2, settings) == "lapsed"
    async with sessions() as s, s.begin():
        assert await membership.plus_due(s, end2 + timedelta(days=1)) == []
        row = (await s.scalars(select(PlusMembership).where(PlusMembership.user_id == user["id"]))).one()
        assert (row.auto_renew, row.periods, row.until) == (False, 2, end2)
        assert not (await membership.plus_state(s, user["id"], end2)).active
    assert await coins(sessions, user["id"]) == 100
    await assert_audit_ok(sessions)


async def test_growth_score_on_membership_endpoints(client: Any, sessions: Sessions) -> None:
    user = await token_user(sessions)
    await reach_level(sessions, user["id"], 12_345)
    r = await client.get("/api/v1/me/membership", headers=user["headers"])
    assert r.json()["growth_score"] == {"total": 128, "parts": {"spend": 123, "active_days": 5, "feedback": 0,
                                                                "disputes_lost": 0}}
    r = await client.get(f"/api/v1/users/{user['username'].upper()}/membership")
    assert r.status_code == 200
    assert (r.json()["level"], r.json()["growth_score"]["total"]) == ("J2", 128)
    assert (await client.get("/api/v1/users/nobody-here-xyz/membership")).status_code == 404


async def test_badges_recomputed_set_based(client: Any, sessions: Sessions) -> None:
    user = await token_user(sessions, coins=2000)
    await reach_level(sessions, user["id"], 500)
    assert (await client.post("/api/v1/plus", json={}, headers=user["headers"])).status_code == 201
    for _ in range(2):  # re-running replaces, never duplicates
        async with sessions() as s, s.begin():
            counts = await membership.recompute_badges(s, utcnow(), Settings())
        assert counts["plus"] >= 1
    r = await client.get("/api/v1/me/membership", headers=user["headers"])
    codes = {b["code"] for b in r.json()["badges"]}
    assert "behaviour:purchases_1" in codes
    assert "plus:member" in codes
    assert "behaviour:purchases_10" not in codes
    assert any(code.startswith("medal:") for code in codes)
    r = await client.get(f"/api/v1/users/{user['username']}/membership")
    assert {b["code"] for b in r.json()["badges"]} == codes
