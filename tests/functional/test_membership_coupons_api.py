"""Birthday coupons (docs/rules.md §15; docs/api.md PUT /me/birthday, GET /me/coupons, coupon_id on buy):
issued at once in the birthday month, exactly once under re-run jobs, platform-funded, not combinable with points,
returned on cancel while valid; the ledger audit balances."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.db import utcnow
from marketplace.membership import services as membership
from marketplace.membership.models import Coupon
from marketplace.notifications.models import Notification
from marketplace.orders.services import OrderService
from marketplace.settings import Settings
from tests.functional.test_membership_api import assert_audit_ok, listing, token_user
from tests.functional.test_membership_perks_api import coins, reach_level

Sessions = async_sessionmaker[AsyncSession]


def this_month() -> int:
    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).month


async def test_birthday_validation_and_365_day_rule(client: Any, sessions: Sessions) -> None:
    user = await token_user(sessions)
    h = user["headers"]
    for bad in ({"month": 2, "day": 30}, {"month": 13, "day": 1}, {"month": "4", "day": 1}, {"month": 4}):
        assert (await client.put("/api/v1/me/birthday", json=bad, headers=h)).status_code == 400
    other = this_month() % 12 + 1
    r = await client.put("/api/v1/me/birthday", json={"month": other, "day": 29 if other == 2 else 30}, headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["month"], r.json()["day"]) == (other, 29 if other == 2 else 30)
    assert r.json()["changeable_from"]
    r = await client.put("/api/v1/me/birthday", json={"month": other, "day": 1}, headers=h)
    assert r.status_code == 409
    assert (await client.get("/api/v1/me/coupons", headers=h)).json() == []  # not the birthday month
    assert (await client.put("/api/v1/me/birthday", json={"month": 1, "day": 1})).status_code == 401


async def test_coupon_issued_once_used_and_returned(client: Any, sessions: Sessions) -> None:
    seller, buyer = await token_user(sessions), await token_user(sessions, coins=5000, points=1000)
    await reach_level(sessions, buyer["id"], 2_000)  # J1: a 20-yuan coupon
    h = buyer["headers"]
    r = await client.put("/api/v1/me/birthday", json={"month": this_month(), "day": 1}, headers=h)
    assert r.status_code == 200
    coupons = (await client.get("/api/v1/me/coupons", headers=h)).json()
    assert len(coupons) == 1
    c = coupons[0]
    assert (c["kind"], c["value"], c["min_items_total"], c["used_at"]) == ("birthday", 200, 1980, None)
    for _ in range(2):  # the job re-run (twice) issues nothing more
        async with sessions() as s, s.begin():
            assert await membership.issue_birthday_coupon(s, buyer["id"], utcnow(), Settings()) is None
    async with sessions() as s:
        assert await s.scalar(select(func.count(Coupon.id)).where(Coupon.user_id == buyer["id"])) == 1
        assert await s.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == buyer["id"], Notification.kind == "coupon_issued")) == 1

    small = await listing(sessions, seller, price=1979)
    r = await client.post(f"/api/v1/listings/{small}/buy", json={"coupon_id": c["id"]}, headers=h)
    assert r.status_code == 400  # below 198 yuan
    lid = await listing(sessions, seller, price=2000)
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"coupon_id": c["id"], "points": 50}, headers=h)
    assert r.status_code == 400  # not combinable with points
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"coupon_id": 999_999}, headers=h)
    assert r.status_code == 400
    before = await coins(sessions, buyer["id"])
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"coupon_id": c["id"]}, headers=h)
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["items_total"], order["platform_paid"], order["total"]) == (2000, 200, 1800)
    assert order["discounts"] == [{"kind": "coupon", "coins": 200}]
    assert await coins(sessions, buyer["id"]) == before - 1800
    assert (await client.get("/api/v1/me/coupons", headers=h)).json()[0]["used_at"] is not None
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"coupon_id": c["id"]}, headers=h)
    assert r.status_code == 409
    await assert_audit_ok(sessions)

    async with sessions() as s, s.begin():
        await OrderService(s).cancel(order["id"], buyer["id"], is_admin=True)
    assert await coins(sessions, buyer["id"]) == before
    assert (await client.get("/api/v1/me/coupons", headers=h)).json()[0]["used_at"] is None
    await assert_audit_ok(sessions)


async def test_registered_member_gets_no_coupon(client: Any, sessions: Sessions) -> None:
    user = await token_user(sessions)
    r = await client.put("/api/v1/me/birthday", json={"month": this_month(), "day": 2}, headers=user["headers"])
    assert r.status_code == 200
    assert (await client.get("/api/v1/me/coupons", headers=user["headers"])).json() == []
