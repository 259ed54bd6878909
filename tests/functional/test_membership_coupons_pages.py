"""The birthday form on /me/membership and the checkout's coupon picker (docs/rules.md §15), and a coupon on Buy
Now (API and form): exact status codes, nothing written on a refusal, the ledger audit balances."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.membership import services as membership
from marketplace.membership.models import Coupon, MemberBirthday
from marketplace.orders.models import Order
from marketplace.settings import Settings
from tests.factories import fund, html_login, html_post, make_listing, make_user
from tests.functional.test_membership_api import assert_audit_ok
from tests.functional.test_membership_coupons_api import this_month
from tests.functional.test_membership_perks_api import reach_level

Sessions = async_sessionmaker[AsyncSession]


async def coupon_buyer(sessions: Sessions, coins: int = 3_000) -> dict[str, Any]:
    """A J1 member who can sign in, with this month's birthday coupon (200 coins off from 1,980) and ``coins``."""
    async with sessions() as s, s.begin():
        buyer, seller = await make_user(s), await make_user(s)
        ids = {"id": buyer.id, "username": buyer.username, "seller": seller.id}
    await reach_level(sessions, ids["id"], 2_000)
    async with sessions() as s, s.begin():
        await fund(s, ids["id"], coins)
        await membership.set_birthday(s, ids["id"], this_month(), 1, utcnow(), Settings())
        ids["coupon"] = await s.scalar(select(Coupon.id).where(Coupon.user_id == ids["id"]))
    assert ids["coupon"] is not None
    return ids


async def add_coupon(sessions: Sessions, user_id: int, key: str, *, minimum: int = 1_980,
                     until: timedelta = timedelta(days=5)) -> int:
    now = utcnow()
    async with sessions() as s, s.begin():
        c = Coupon(user_id=user_id, kind="birthday", value=100, min_items_total=minimum,
                   valid_from=now - timedelta(days=40), valid_until=now + until, issue_key=f"test:{user_id}:{key}",
                   created_at=now)
        s.add(c)
        await s.flush()
        return int(c.id)


async def listing_of(sessions: Sessions, seller_id: int, **kw: Any) -> int:
    async with sessions() as s, s.begin():
        seller = await s.get(User, seller_id)
        assert seller is not None
        return int((await make_listing(s, seller, **kw)).id)


def option(html: str, coupon_id: int) -> str:
    m = re.search(rf'<label class="coupon-option[^"]*" id="coupon-{coupon_id}">(.*?)</label>', html, re.S)
    assert m is not None, f"coupon {coupon_id} not on the picker"
    return " ".join(m.group(1).split())


async def test_checkout_coupon_picker_lists_reasons_and_applies(client: Any, sessions: Sessions) -> None:
    b = await coupon_buyer(sessions)
    expired = await add_coupon(sessions, b["id"], "old", until=-timedelta(days=1))
    big = await add_coupon(sessions, b["id"], "big", minimum=5_000)
    lid = await listing_of(sessions, b["seller"], price=2_000, quantity=3)
    await html_login(client, b["username"])

    r = await client.get(f"/listings/{lid}/checkout")
    assert r.status_code == 200
    assert "disabled" not in option(r.text, b["coupon"])
    assert "not usable here: expired on" in option(r.text, expired)
    assert "needs an items total of at least 5,000 coins (this one is 2,000)" in option(r.text, big)
    assert 'id="checkout-total">2,000' in r.text.replace(" coins", "")

    async with sessions() as s, s.begin():
        await membership.grant_points(s, b["id"], 100, now=utcnow(), settings=Settings())
    r = await client.get(f"/listings/{lid}/checkout?points=50")
    assert r.status_code == 200
    assert "not combinable with points" in option(r.text, b["coupon"])

    r = await client.get(f"/listings/{lid}/checkout?coupon_id={expired}")
    assert r.status_code == 409
    assert 'id="coupon-error"' in r.text
    r = await client.get(f"/listings/{lid}/checkout?coupon_id={b['coupon']}&points=50")
    assert r.status_code == 400
    assert "cannot be combined with points" in r.text
    r = await client.get(f"/listings/{lid}/checkout?coupon_id=abc")
    assert r.status_code == 400

    r = await client.get(f"/listings/{lid}/checkout?coupon_id={b['coupon']}")
    assert r.status_code == 200
    assert f'name="coupon_id" value="{b["coupon"]}"' in r.text  # carried by the pay form
    key = re.search(r'name="idempotency_key" value="([^"]+)"', r.text)
    assert key is not None
    r = await html_post(client, f"/listings/{lid}/buy", {"quantity": "1", "points": "0",
                                                         "coupon_id": str(b["coupon"]),
                                                         "idempotency_key": key.group(1)})
    assert r.status_code == 303
    order_id = int(r.headers["location"].rsplit("/", 1)[1])
    async with sessions() as s:
        order = await s.get(Order, order_id)
        assert order is not None
        assert (order.items_total, order.platform_paid, order.total) == (2_000, 200, 1_800)
        coupon = await s.get(Coupon, b["coupon"])
        assert coupon is not None
        assert coupon.order_id == order_id
    r = await client.get(f"/listings/{lid}/checkout")
    assert f'id="coupon-{b["coupon"]}"' not in r.text  # used: no longer offered
    await assert_audit_ok(sessions)


async def test_buy_now_takes_a_coupon(client: Any, sessions: Sessions) -> None:
    b = await coupon_buyer(sessions)
    low = await listing_of(sessions, b["seller"], mode="auction", start_price=10, buy_now_price=1_979)
    lid = await listing_of(sessions, b["seller"], mode="auction", start_price=10, buy_now_price=2_000)
    await html_login(client, b["username"])
    r = await client.get(f"/listings/{low}/checkout")
    assert r.status_code == 200
    assert "needs an items total of at least 1,980 coins (this one is 1,979)" in option(r.text, b["coupon"])
    r = await html_post(client, f"/listings/{low}/buy", {"coupon_id": str(b["coupon"])})
    assert r.status_code == 400  # below the minimum: nothing bought
    r = await client.get(f"/listings/{lid}/checkout?coupon_id={b['coupon']}")
    assert r.status_code == 200
    assert 'id="checkout-total">1,800' in r.text.replace(" coins", "")
    r = await html_post(client, f"/listings/{lid}/buy", {"coupon_id": str(b["coupon"])})
    assert r.status_code == 303
    async with sessions() as s:
        order = await s.scalar(select(Order).where(Order.listing_id == lid))
        assert order is not None
        assert (order.source, order.items_total, order.platform_paid, order.total) == ("buy_now", 2_000, 200, 1_800)
        assert order.discounts == [{"kind": "coupon", "coins": 200}]
        assert await s.scalar(select(Order.id).where(Order.listing_id == low)) is None
    await assert_audit_ok(sessions)


async def test_birthday_form_errors_and_365_days(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        user = await make_user(s)
        uid, name = user.id, user.username
    await html_login(client, name)
    page = await client.get("/me/membership")
    assert page.status_code == 200
    assert 'id="birthday-form"' in page.text
    for form, status, text in (({"month": "2", "day": "30"}, 400, "That month has 29 days."),
                               ({"month": "13", "day": "1"}, 400, "month must be between 1 and 12."),
                               ({"month": "x", "day": "1"}, 400, "Month must be a number"),
                               ({"month": "", "day": "1"}, 400, "Month must be a number")):
        r = await html_post(client, "/me/membership/birthday", form)
        assert r.status_code == status, form
        assert 'id="birthday-error"' in r.text
        assert text in r.text
    async with sessions() as s:
        assert await s.get(MemberBirthday, uid) is None
    other = this_month() % 12 + 1
    r = await html_post(client, "/me/membership/birthday", {"month": str(other), "day": "3"})
    assert r.status_code == 303
    assert r.headers["location"] == "/me/membership#birthday"
    page = await client.get("/me/membership")
    assert f"Your birthday: {other}/3." in page.text
    assert "You can change it from" in page.text
    r = await html_post(client, "/me/membership/birthday", {"month": str(other), "day": "4"})
    assert r.status_code == 409
    assert "once every 365 days" in r.text
    async with sessions() as s:
        row = await s.get(MemberBirthday, uid)
        assert row is not None
        assert (row.month, row.day) == (other, 3)
    r = await client.post("/me/membership/birthday", data={"month": "1", "day": "1"}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
