"""Idempotency keys on real PostgreSQL (docs/rules.md §19.3): concurrent identical purchases make one order,
a resubmission after commit returns the first result, a refused attempt leaves no key behind."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import idempotency
from marketplace.errors import DomainError
from marketplace.idempotency import IdempotencyRecord
from marketplace.orders.models import Order
from marketplace.orders.services import buy_fixed
from marketplace.settings import Settings
from marketplace.wallet import ledger
from tests.factories import fund, make_listing, make_user

Sessions = async_sessionmaker[AsyncSession]


async def _buy_once(sessions: Sessions, settings: Settings, listing_id: int, buyer_id: int,
                    key: str) -> tuple[dict[str, Any], bool]:
    async with sessions() as s, s.begin():
        async def work() -> tuple[int, dict[str, Any]]:
            order = await buy_fixed(s, settings, listing_id, buyer_id, 1)
            await asyncio.sleep(0.2)  # keep the transaction open so the twin request waits on the key
            return 201, {"order_id": order.id}

        stored, replayed = await idempotency.run_once(s, user_id=buyer_id, endpoint=f"buy:{listing_id}", key=key,
                                                      work=work)
        return stored.response, replayed


async def test_concurrent_identical_requests_make_one_order(sessions: Sessions, settings: Settings) -> None:
    async with sessions() as s, s.begin():
        seller = await make_user(s)
        listing = await make_listing(s, seller, price=40, quantity=5)
        buyer = await make_user(s, coins=500)
        listing_id, buyer_id = listing.id, buyer.id
    results = await asyncio.gather(*(_buy_once(sessions, settings, listing_id, buyer_id, "key-concurrent-1")
                                     for _ in range(4)))
    order_ids = {r[0]["order_id"] for r in results}
    assert len(order_ids) == 1
    assert sorted(r[1] for r in results) == [False, True, True, True]
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Order).where(Order.buyer_id == buyer_id)) == 1
        assert await ledger.balance(s, ledger.available(buyer_id)) == 460
    # A new key is a new purchase.
    response, replayed = await _buy_once(sessions, settings, listing_id, buyer_id, "key-concurrent-2")
    assert not replayed
    assert response["order_id"] not in order_ids


async def test_refused_attempt_keeps_no_key(sessions: Sessions, settings: Settings) -> None:
    async with sessions() as s, s.begin():
        seller = await make_user(s)
        listing = await make_listing(s, seller, price=400, quantity=1)
        buyer = await make_user(s, coins=100)
        listing_id, buyer_id = listing.id, buyer.id
    with pytest.raises(DomainError) as refused:
        await _buy_once(sessions, settings, listing_id, buyer_id, "key-refused-1")
    assert refused.value.status_code == 402
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(IdempotencyRecord)
                              .where(IdempotencyRecord.key == "key-refused-1")) == 0
    async with sessions() as s, s.begin():
        await fund(s, buyer_id, 300)
    response, replayed = await _buy_once(sessions, settings, listing_id, buyer_id, "key-refused-1")
    assert not replayed
    assert response["order_id"]
