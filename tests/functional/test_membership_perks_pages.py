"""PLUS button on /me/membership (CSRF form, 303, error flash on 402 with nothing kept), the /member-day page,
the member-day badge on cards, the sell form's PLUS price and member-day fields."""

from __future__ import annotations

import dataclasses
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import jobs
from marketplace.db import utcnow
from marketplace.membership import services as membership
from marketplace.settings import Settings
from marketplace.wallet import ledger
from tests.factories import html_login, html_post, make_listing, make_user

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, member_day=utcnow().astimezone(ZoneInfo("Asia/Shanghai")).day)


async def test_plus_button(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        rich, poor = await make_user(s, coins=2_000), await make_user(s, coins=100)
        names = (rich.username, poor.username, rich.id, poor.id)
    await html_login(client, names[1])
    r = await client.get("/me/membership")
    assert 'id="plus-form"' in r.text
    r = await html_post(client, "/me/membership/plus", {"auto_renew": "1"})
    assert r.status_code == 303
    r = await client.get("/me/membership")
    assert 'id="plus-form"' in r.text  # still not PLUS
    async with sessions() as s:
        assert await ledger.balance(s, ledger.available(names[3])) == 100
        assert not await membership.is_plus(s, names[3], utcnow())
    await html_post(client, "/logout", {})
    client.cookies.clear()
    await html_login(client, names[0])
    r = await html_post(client, "/me/membership/plus", {"auto_renew": "1"})
    assert r.status_code == 303
    r = await client.get("/me/membership")
    assert 'id="plus-status"' in r.text
    assert "renews automatically" in r.text
    async with sessions() as s:
        assert await ledger.balance(s, ledger.available(names[2])) == 510


async def test_member_day_page_and_card_badge(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        seller = await make_user(s)
        listing = await make_listing(s, seller, price=500, quantity=2)
        listing.member_day = True
        title = listing.title
    r = await client.get("/member-day")
    assert r.status_code == 200
    assert 'id="member-day-today"' in r.text
    assert title in r.text
    assert "member-day-badge" in r.text


async def test_profile_shows_growth_score(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        user = await make_user(s)
        name = user.username
    r = await client.get(f"/users/{name}")
    assert r.status_code == 200
    assert 'id="growth-score">0<' in r.text


@pytest.fixture
def no_badge_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daily badge recompute runs at the app's start-up and removes badges not earned: this test plants one
    by hand, so the app under test starts without that job."""
    monkeypatch.delitem(jobs.PERIODIC, "recompute_badges")


async def test_listing_page_shows_seller_badges(no_badge_job: None, client: Any, sessions: Sessions) -> None:
    from marketplace.membership.models import MemberBadge

    async with sessions() as s, s.begin():
        seller = await make_user(s)
        listing = await make_listing(s, seller, price=500)
        s.add(MemberBadge(user_id=seller.id, code="behaviour:positive_10", name="10 positive feedbacks as a seller"))
        lid = listing.id
    r = await client.get(f"/listings/{lid}")
    assert r.status_code == 200
    assert "seller-badge" in r.text
    assert "10 positive feedbacks as a seller" in r.text
