"""The job that expires second-chance offers after 48 hours (docs/rules.md §19.2), on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.auctions import second_chance, tasks
from marketplace.auctions.models import SecondChanceOffer
from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.jobs import PERIODIC, JobContext
from marketplace.orders.models import Order
from marketplace.settings import Settings
from marketplace.wallet import ledger
from tests.factories import fund, make_order, make_user

Sessions = async_sessionmaker[AsyncSession]


class _Null:
    async def publish(self, channel: str, message: dict[str, object]) -> None:
        return None

    async def enqueue(self, name: str, *args: object, defer_until: object = None, job_id: str | None = None) -> None:
        return None


async def _offer(sessions: Sessions, *, age: timedelta) -> tuple[int, int, int]:
    """An offer made ``age`` ago to a funded runner-up; returns (offer, runner-up, listing)."""
    async with sessions() as s, s.begin():
        order = await make_order(s, mode="auction", price=50)
        order.status = "cancelled"
        runner = await make_user(s)
        await fund(s, runner.id, 1_000)
        made = utcnow() - age
        sco = SecondChanceOffer(listing_id=order.listing_id, cancelled_order_id=order.id, buyer_id=runner.id,
                                price=40, status="offered", created_at=made,
                                expires_at=made + timedelta(hours=second_chance.OFFER_HOURS))
        s.add(sco)
        await s.flush()
        return sco.id, runner.id, order.listing_id


def test_the_job_is_registered_as_periodic() -> None:
    spec = PERIODIC["expire_second_chance_offers"]
    assert spec.fn is tasks.expire_second_chance_offers
    assert spec.every <= timedelta(minutes=10)


async def test_job_expires_due_offers_and_charges_nothing(sessions: Sessions, settings: Settings) -> None:
    old, runner_old, listing_old = await _offer(sessions, age=timedelta(hours=49))
    fresh, runner_fresh, _ = await _offer(sessions, age=timedelta(hours=1))
    ctx = JobContext(settings=settings, session_factory=sessions, queue=_Null(), publisher=_Null())
    assert await tasks.expire_second_chance_offers(ctx) == 1
    assert await tasks.expire_second_chance_offers(ctx) == 0  # idempotent
    async with sessions() as s:
        assert (await s.get(SecondChanceOffer, old)).status == "expired"  # type: ignore[union-attr]
        assert (await s.get(SecondChanceOffer, fresh)).status == "offered"  # type: ignore[union-attr]
        assert await ledger.balance(s, ledger.available(runner_old)) == 1_000
        assert await ledger.balance(s, ledger.held(runner_old)) == 0
        assert await s.scalar(select(func.count()).select_from(Order).where(Order.buyer_id == runner_old)) == 0
        assert await s.scalar(select(func.count()).select_from(Order).where(Order.listing_id == listing_old)) == 1
    # the runner-up can no longer accept it: 409 and still nothing charged
    with pytest.raises(DomainError) as refused:
        async with sessions() as s, s.begin():
            await second_chance.accept(s, old, runner_old, utcnow())
    assert refused.value.status_code == 409
    async with sessions() as s:
        assert await ledger.balance(s, ledger.available(runner_old)) == 1_000
        assert await ledger.balance(s, ledger.available(runner_fresh)) == 1_000
