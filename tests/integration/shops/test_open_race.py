"""Two opens at once: the unique constraints decide, one shop is opened and one period charged."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.settings import Settings
from marketplace.shops.models import Shop
from marketplace.shops.services import ShopService
from marketplace.wallet import ledger
from tests.factories import make_user


async def _open(sessions: Any, settings: Settings, owner_id: int, slug: str) -> int:
    try:
        async with sessions() as s, s.begin():
            await ShopService(s, settings).open_shop(owner_id, name="Race", slug=slug, plan="basic", now=utcnow())
    except DomainError as exc:
        return exc.status_code
    return 201


async def test_same_user_opening_twice_at_once_gets_one_shop(settings: Settings, sessions: Any) -> None:
    async with sessions() as s, s.begin():
        owner = await make_user(s, coins=1000)
    codes = await asyncio.gather(*(_open(sessions, settings, owner.id, f"race-{i}") for i in range(4)))
    assert sorted(codes) == [201, 409, 409, 409]
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Shop)) == 1
        assert (await ledger.wallet_balances(s, owner.id))[0] == 900


async def test_two_users_racing_for_one_slug(settings: Settings, sessions: Any) -> None:
    async with sessions() as s, s.begin():
        owners = [await make_user(s, coins=100) for _ in range(3)]
    codes = await asyncio.gather(*(_open(sessions, settings, o.id, "wanted-slug") for o in owners))
    assert sorted(codes) == [201, 409, 409]
    async with sessions() as s:
        balances = sorted([(await ledger.wallet_balances(s, o.id))[0] for o in owners])
        assert balances == [0, 100, 100]
