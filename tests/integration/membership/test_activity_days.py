"""Active days of the growth score (docs/rules.md §16): a login, a bid or a purchase marks the UTC day, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.services import AccountService
from marketplace.auctions.services import BidService
from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.membership import services as membership
from marketplace.membership.models import MemberActivityDay
from marketplace.orders.services import buy_fixed
from marketplace.settings import Settings
from tests.factories import PASSWORD, api_login, html_login, make_listing, make_user

Sessions = async_sessionmaker[AsyncSession]
SETTINGS = Settings()


async def days_of(sessions: Sessions, user_id: int) -> list[Any]:
    async with sessions() as s:
        return list(await s.scalars(select(MemberActivityDay.day).where(MemberActivityDay.user_id == user_id)
                                    .order_by(MemberActivityDay.day)))


async def test_recording_is_idempotent_per_day_and_counted_in_the_window(sessions: Sessions) -> None:
    now = datetime(2026, 6, 10, 23, 59, tzinfo=UTC)
    async with sessions() as s, s.begin():
        user = await make_user(s)
        for at in (now, now, now - timedelta(minutes=1), now + timedelta(minutes=2), now - timedelta(days=400)):
            await membership.record_activity(s, user.id, at)
        uid = user.id
    assert [d.isoformat() for d in await days_of(sessions, uid)] == ["2025-05-06", "2026-06-10", "2026-06-11"]
    async with sessions() as s:
        # the 400-day-old one is outside the 365-day window; 2026-06-11 is after `now`
        assert await membership.active_days(s, uid, now - timedelta(days=365), now) == 1
        assert await membership.active_days(s, uid, now - timedelta(days=365), now + timedelta(days=1)) == 2
        total, parts = await membership.growth(s, uid, now + timedelta(days=1), SETTINGS)
    assert parts["active_days"] == 10
    assert total == 10


async def test_login_bid_and_purchase_each_mark_today(sessions: Sessions, client: Any) -> None:
    async with sessions() as s, s.begin():
        seller = await make_user(s)
        login_only, bidder, buyer = await make_user(s), await make_user(s, coins=1_000), await make_user(s, coins=500)
        auction = await make_listing(s, seller, mode="auction", start_price=10)
        fixed = await make_listing(s, seller, price=100)
        ids = {"login": login_only.id, "bidder": bidder.id, "buyer": buyer.id}
        names = {"login": login_only.username}
        auction_id, fixed_id = auction.id, fixed.id
    today = utcnow().date()
    assert await days_of(sessions, ids["login"]) == []  # registering is not an active day

    await html_login(client, names["login"])  # the sign-in page
    await api_login(client, names["login"])  # and a token: still one day
    assert await days_of(sessions, ids["login"]) == [today]

    async with sessions() as s, s.begin():
        await BidService(s, SETTINGS).place_bid(auction_id, ids["bidder"], 50, utcnow())
    assert await days_of(sessions, ids["bidder"]) == [today]

    async with sessions() as s, s.begin():
        await buy_fixed(s, SETTINGS, fixed_id, ids["buyer"], 1)
    assert await days_of(sessions, ids["buyer"]) == [today]


async def test_refusals_record_nothing(sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        seller = await make_user(s)
        poor = await make_user(s)  # no coins
        auction = await make_listing(s, seller, mode="auction", start_price=10)
        fixed = await make_listing(s, seller, price=100)
        poor_id, poor_name, auction_id, fixed_id = poor.id, poor.username, auction.id, fixed.id
    with pytest.raises(DomainError) as bid:
        async with sessions() as s, s.begin():
            await BidService(s, SETTINGS).place_bid(auction_id, poor_id, 50, utcnow())
    assert bid.value.status_code == 402
    with pytest.raises(DomainError) as buy:
        async with sessions() as s, s.begin():
            await buy_fixed(s, SETTINGS, fixed_id, poor_id, 1)
    assert buy.value.status_code == 402
    with pytest.raises(DomainError) as login:
        async with sessions() as s, s.begin():
            await AccountService(s).authenticate(poor_name, PASSWORD + "x")
    assert login.value.status_code == 401
    assert await days_of(sessions, poor_id) == []
