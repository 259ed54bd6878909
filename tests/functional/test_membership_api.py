"""docs/api.md "Membership, points": the endpoints, checkout with points and shipping, and every refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import events
from marketplace.accounts.models import User
from marketplace.accounts.services import AccountService
from marketplace.db import utcnow
from marketplace.listings.models import Listing
from marketplace.membership import services as membership
from marketplace.membership.events import LevelChanged
from marketplace.membership.models import PointsLot
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.audit import audit
from tests.factories import fund, make_listing, quick_user

Sessions = async_sessionmaker[AsyncSession]


async def token_user(sessions: Sessions, coins: int = 0, points: int = 0) -> dict[str, Any]:
    async with sessions() as s, s.begin():
        user = await quick_user(s)
        if coins:
            await fund(s, user.id, coins)
        if points:
            await membership.grant_points(s, user.id, points, now=utcnow(), settings=Settings())
        token = await AccountService(s).issue_token(user)
        return {"id": user.id, "username": user.username, "headers": {"Authorization": f"Bearer {token}"}}


async def listing(sessions: Sessions, seller: dict[str, Any], *, price: int, shipping_fee: int = 0,
                  quantity: int = 5, **kw: Any) -> int:
    async with sessions() as s, s.begin():
        row = await make_listing(s, await s.get(User, seller["id"]), price=price, quantity=quantity, **kw)
        row.shipping_fee = shipping_fee
        return int(row.id)


async def balances(sessions: Sessions, user_id: int) -> dict[str, int]:
    async with sessions() as s:
        return {k.kind: await ledger.balance(s, k) for k in (
            ledger.available(user_id), ledger.points_available(user_id), ledger.points_frozen(user_id))} | {
            "marketing": await ledger.balance(s, ledger.platform("marketing"))}


async def assert_audit_ok(sessions: Sessions) -> None:
    async with sessions() as s:
        report = await audit(s)
    assert report.ok, report.text()
    assert report.points_total == 0


@pytest.fixture
async def people(sessions: Sessions) -> dict[str, Any]:
    return {"seller": await token_user(sessions), "buyer": await token_user(sessions, coins=5000, points=3000)}


async def test_buy_with_points_and_shipping_then_complete(client: Any, sessions: Sessions,
                                                          people: dict[str, Any]) -> None:
    seller, buyer = people["seller"], people["buyer"]
    lid = await listing(sessions, seller, price=500, shipping_fee=60)
    r = await client.get(f"/api/v1/listings/{lid}")
    assert r.json()["shipping_fee"] == 60
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"quantity": 1, "points": 2000},
                          headers=buyer["headers"])
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["items_total"], order["shipping_fee"], order["points_used"], order["platform_paid"],
            order["total"]) == (500, 60, 2000, 40, 520)
    assert order["discounts"] == [{"kind": "points", "coins": 40}]
    b = await balances(sessions, buyer["id"])
    # 5000 − 520 coins; 3000 − 2000 points; round_half_up(520 / 10) = 52 frozen; marketing paid 40
    assert (b["available"], b["points_available"], b["points_frozen"], b["marketing"]) == (4480, 1000, 52, -40)

    r = await client.post(f"/api/v1/orders/{order['id']}/ship", json={}, headers=seller["headers"])
    assert r.status_code == 200
    seen: list[LevelChanged] = []

    async def remember(_session: AsyncSession, event: LevelChanged) -> None:
        seen.append(event)

    events.subscribe(LevelChanged, remember)
    try:
        r = await client.post(f"/api/v1/orders/{order['id']}/confirm", headers=buyer["headers"])
    finally:
        events._handlers[LevelChanged].remove(remember)
    assert r.status_code == 200
    done = r.json()
    assert done["fee"] == 25  # 5 % of the items total 500 at the sale price, shipping excluded
    s = await balances(sessions, seller["id"])
    assert s["available"] == 500 + 60 - 25  # paid on the full price, whatever the buyer paid
    assert [(e.user_id, e.old_level, e.new_level) for e in seen] == [(buyer["id"], "registered", "J1")]

    r = await client.get("/api/v1/me/membership", headers=buyer["headers"])
    assert r.status_code == 200
    body = r.json()
    assert (body["level"], body["effective_spend"], body["next_level"], body["next_level_spend"]) == (
        "J1", 520, "J2", 10_001)
    assert body["points"]["available"] == 1000
    assert body["points"]["frozen"] == 52
    assert body["plus"] == {"active": False, "until": None, "auto_renew": False}
    # docs/rules.md §16: floor(50 yuan / 10) for the spend + 5 for the one active day.
    assert body["growth_score"] == {
        "total": 10, "parts": {"spend": 5, "active_days": 5, "feedback": 0, "disputes_lost": 0}}
    assert body["badges"] == []
    assert len(body["points"]["expiring"]) == 1
    assert body["points"]["expiring"][0]["points"] == 1000

    # the unfreeze job, at completion + freeze seconds: frozen → available, exactly once
    async with sessions() as sess:
        lot_id = await sess.scalar(select(PointsLot.id).where(PointsLot.order_id == order["id"],
                                                              PointsLot.source == "purchase"))
        lot = await sess.get(PointsLot, lot_id)
        assert lot is not None
        assert lot.unfreeze_at is not None
        due = lot.unfreeze_at
    assert lot_id is not None
    async with sessions() as sess, sess.begin():
        assert not await membership.unfreeze_lot(sess, lot_id, due - timedelta(seconds=1), Settings())
    for _ in range(2):
        async with sessions() as sess, sess.begin():
            await membership.unfreeze_lot(sess, lot_id, due, Settings())
    b = await balances(sessions, buyer["id"])
    assert (b["points_available"], b["points_frozen"]) == (1052, 0)

    # feedback by the buyer earns 10 points, once
    r = await client.post(f"/api/v1/orders/{order['id']}/feedback", json={"rating": "positive"},
                          headers=buyer["headers"])
    assert r.status_code == 201
    assert (await balances(sessions, buyer["id"]))["points_available"] == 1062
    r = await client.post(f"/api/v1/orders/{order['id']}/feedback", json={"rating": "positive"},
                          headers=seller["headers"])
    assert r.status_code == 201
    assert (await balances(sessions, buyer["id"]))["points_available"] == 1062

    r = await client.get("/api/v1/me/points/entries", headers=buyer["headers"])
    assert r.status_code == 200
    page = r.json()
    kinds = [(e["account"], e["points"], e["kind"]) for e in page["items"]]
    assert kinds[0] == ("available", 10, "points_feedback")
    assert ("frozen", 52, "points_earn") in kinds
    assert ("available", -2000, "points_redeem") in kinds
    assert page["total"] == len(kinds)
    assert page["items"][0]["ref"] == f"order:{order['id']}"
    await assert_audit_ok(sessions)


async def test_free_shipping_from_the_level_threshold(client: Any, sessions: Sessions,
                                                      people: dict[str, Any]) -> None:
    lid = await listing(sessions, people["seller"], price=940, shipping_fee=80)
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"quantity": 2}, headers=people["buyer"]["headers"])
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["items_total"], order["total"], order["platform_paid"]) == (1880, 1880, 80)
    assert order["discounts"] == [{"kind": "free_shipping", "coins": 80}]
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"quantity": 1}, headers=people["buyer"]["headers"])
    assert r.json()["total"] == 940 + 80
    assert r.json()["discounts"] == []
    await assert_audit_ok(sessions)


@pytest.mark.parametrize(("points", "status"), [
    (75, 400), (2050, 400), (1.5, 400), (-50, 400), (3050, 400),  # 3,050 > 2,000 too
])
async def test_malformed_points_are_refused(client: Any, sessions: Sessions, people: dict[str, Any],
                                            points: Any, status: int) -> None:
    lid = await listing(sessions, people["seller"], price=500)
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"points": points}, headers=people["buyer"]["headers"])
    assert r.status_code == status, r.text
    await _nothing_changed(sessions, people, lid)


async def _nothing_changed(sessions: Sessions, people: dict[str, Any], lid: int) -> None:
    b = await balances(sessions, people["buyer"]["id"])
    assert (b["available"], b["points_available"], b["points_frozen"]) == (5000, 3000, 0)
    async with sessions() as s:
        row = await s.get(Listing, lid)
        assert row is not None
        assert row.quantity_available == row.quantity


async def test_points_worth_more_than_the_items_are_refused(client: Any, sessions: Sessions,
                                                            people: dict[str, Any]) -> None:
    lid = await listing(sessions, people["seller"], price=10, shipping_fee=30)
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"points": 550}, headers=people["buyer"]["headers"])
    assert r.status_code == 400  # 550 points = 11 coins > 10 coins of items (shipping is not discounted)
    await _nothing_changed(sessions, people, lid)
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"points": 500}, headers=people["buyer"]["headers"])
    assert r.status_code == 201
    assert r.json()["total"] == 30


async def test_points_over_the_balance_are_a_conflict(client: Any, sessions: Sessions,
                                                      people: dict[str, Any]) -> None:
    poor = await token_user(sessions, coins=5000, points=100)
    lid = await listing(sessions, people["seller"], price=500)
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"points": 150}, headers=poor["headers"])
    assert r.status_code == 409, r.text
    b = await balances(sessions, poor["id"])
    assert (b["available"], b["points_available"]) == (5000, 100)


async def test_points_on_a_bid_are_refused_and_buy_now_takes_them(client: Any, sessions: Sessions,
                                                                  people: dict[str, Any]) -> None:
    lid = await listing(sessions, people["seller"], price=1, mode="auction", start_price=100, buy_now_price=300)
    r = await client.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": 150, "points": 100},
                          headers=people["buyer"]["headers"])
    assert r.status_code == 400
    assert (await balances(sessions, people["buyer"]["id"]))["available"] == 5000
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"points": 1000}, headers=people["buyer"]["headers"])
    assert r.status_code == 201, r.text
    assert (r.json()["items_total"], r.json()["total"], r.json()["points_used"]) == (300, 280, 1000)
    await assert_audit_ok(sessions)


async def test_cancel_gives_points_back_with_their_expiry_and_takes_frozen_ones(
        client: Any, sessions: Sessions, people: dict[str, Any]) -> None:
    buyer = people["buyer"]
    async with sessions() as s:
        expiry_before = await s.scalar(select(PointsLot.expires_at).where(PointsLot.user_id == buyer["id"]))
    lid = await listing(sessions, people["seller"], price=500, shipping_fee=60)
    r = await client.post(f"/api/v1/listings/{lid}/buy", json={"points": 1000}, headers=buyer["headers"])
    oid = r.json()["id"]
    r = await client.post(f"/api/v1/orders/{oid}/cancel", headers=buyer["headers"])
    assert r.status_code == 200
    await _nothing_changed(sessions, people, lid)
    assert (await balances(sessions, buyer["id"]))["marketing"] == 0
    r = await client.get("/api/v1/me/membership", headers=buyer["headers"])
    assert r.json()["points"]["expiring"][0]["points"] == 3000
    async with sessions() as s:
        lots = list(await s.scalars(select(PointsLot).where(PointsLot.user_id == buyer["id"])
                                    .order_by(PointsLot.id)))
    assert [(lot.state, lot.remaining) for lot in lots] == [("available", 3000), ("revoked", 0)]
    assert lots[0].expires_at == expiry_before
    await assert_audit_ok(sessions)


async def test_public_membership_and_auth(client: Any, sessions: Sessions, people: dict[str, Any]) -> None:
    r = await client.get(f"/api/v1/users/{people['buyer']['username'].upper()}/membership")
    assert r.status_code == 200
    no_parts = {"spend": 0, "active_days": 0, "feedback": 0, "disputes_lost": 0}
    assert r.json() == {"level": "registered", "growth_score": {"total": 0, "parts": no_parts}, "badges": []}
    assert (await client.get("/api/v1/users/nobody_here/membership")).status_code == 404
    assert (await client.get("/api/v1/me/membership")).status_code == 401
    assert (await client.get("/api/v1/me/points/entries?page=0",
                             headers=people["buyer"]["headers"])).status_code == 400


async def test_shipping_fee_on_publish(client: Any, sessions: Sessions) -> None:
    from tests.factories import api_admin, api_category, api_user

    seller = await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, seller["id"], 100)
    admin = await api_admin(client, sessions)
    cat = await api_category(client, admin, "Shipping things")
    base = {"title": "Teapot", "category_id": cat["id"], "mode": "fixed", "price": 300}
    r = await client.post("/api/v1/listings", json={**base, "shipping_fee": 25}, headers=seller["headers"])
    assert r.status_code == 201, r.text
    assert r.json()["shipping_fee"] == 25
    assert (await client.post("/api/v1/listings", json={**base, "shipping_fee": -1},
                              headers=seller["headers"])).status_code == 400
    r = await client.post("/api/v1/listings", json={"title": "Vase", "category_id": cat["id"], "mode": "auction",
                                                    "start_price": 10, "duration_seconds": 3600, "shipping_fee": 5},
                          headers=seller["headers"])
    assert r.status_code == 201  # fixed-price field, ignored on an auction like the other mode's fields
    assert r.json()["shipping_fee"] == 0


async def test_feedback_with_a_photo_earns_twenty_points(client: Any, sessions: Sessions,
                                                         people: dict[str, Any], settings: Settings) -> None:
    from tests.imagedata import png_bytes

    seller, buyer = people["seller"], people["buyer"]
    lid = await listing(sessions, seller, price=100)
    oid = (await client.post(f"/api/v1/listings/{lid}/buy", json={}, headers=buyer["headers"])).json()["id"]
    await client.post(f"/api/v1/orders/{oid}/ship", json={}, headers=seller["headers"])
    await client.post(f"/api/v1/orders/{oid}/confirm", headers=buyer["headers"])
    photo = {"file": ("teapot.png", png_bytes(), "image/png")}
    r = await client.post(f"/api/v1/orders/{oid}/feedback/photo", files=photo, headers=buyer["headers"])
    assert r.status_code == 409  # feedback first
    r = await client.post(f"/api/v1/orders/{oid}/feedback", json={"rating": "positive"}, headers=buyer["headers"])
    assert r.status_code == 201
    r = await client.post(f"/api/v1/orders/{oid}/feedback/photo", files={"file": ("x.png", b"not an image",
                                                                                   "image/png")},
                          headers=buyer["headers"])
    assert r.status_code == 400
    stranger = await token_user(sessions)
    r = await client.post(f"/api/v1/orders/{oid}/feedback/photo", files=photo, headers=stranger["headers"])
    assert r.status_code == 404
    r = await client.post(f"/api/v1/orders/{oid}/feedback/photo", files=photo, headers=buyer["headers"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["points_earned"] == 10
    assert body["thumb_url"].startswith("/media/feedback/")
    assert (settings.media_dir / body["url"].removeprefix("/media/")).is_file()
    # 3,000 granted + 10 for the feedback + 10 for its photo = 20 for the feedback
    assert (await balances(sessions, buyer["id"]))["points_available"] == 3020
    r = await client.post(f"/api/v1/orders/{oid}/feedback/photo", files=photo, headers=buyer["headers"])
    assert r.status_code == 409
    assert (await balances(sessions, buyer["id"]))["points_available"] == 3020
    # the seller's feedback may carry a photo too; it earns nobody points
    await client.post(f"/api/v1/orders/{oid}/feedback", json={"rating": "positive"}, headers=seller["headers"])
    r = await client.post(f"/api/v1/orders/{oid}/feedback/photo", files=photo, headers=seller["headers"])
    assert r.status_code == 201
    assert r.json()["points_earned"] == 0
    await assert_audit_ok(sessions)
