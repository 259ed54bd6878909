"""Property: after any sequence of purchases (with and without points), cancels, refunds, completions,
feedback, unfreezes and expiries, both ledgers balance (the audit), no balance is negative, and the points lots
add up to the points balances. Runs on PostgreSQL, each example with fresh users."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from marketplace.db import session_factory
from marketplace.errors import DomainError
from marketplace.membership import services as membership
from marketplace.membership.models import PointsLot
from marketplace.orders.services import FeedbackService, OrderService, buy_fixed
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.audit import audit
from tests.factories import make_listing, make_user

PRICES = ((30, 0), (500, 60), (2_000, 80))
STEPS = [timedelta(0), timedelta(days=1), timedelta(days=8), timedelta(days=400), timedelta(days=800)]

op = st.one_of(
    st.tuples(st.just("buy"), st.integers(0, 2), st.sampled_from([0, 50, 500, 2_000, 75, 5_000])),
    st.tuples(st.sampled_from(["cancel", "ship", "confirm", "refund", "feedback"]), st.integers(0, 7),
              st.just(0)),
    st.tuples(st.just("wait"), st.integers(0, len(STEPS) - 1), st.just(0)),
)


async def _run(url: str, ops: list[tuple[str, int, int]]) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    sessions = session_factory(engine)
    conf = Settings(database_url=url)
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    try:
        async with sessions() as s, s.begin():
            seller, buyer = await make_user(s), await make_user(s, coins=50_000)
            admin = await make_user(s, is_admin=True)
            await membership.grant_points(s, buyer.id, 3_000, now=now, settings=conf)
            listings = []
            for price, shipping in PRICES:
                row = await make_listing(s, seller, price=price, quantity=50)
                row.shipping_fee = shipping
                listings.append(row.id)
            ids = (seller.id, buyer.id, admin.id)
        seller_id, buyer_id, admin_id = ids
        orders: list[int] = []
        for name, a, b in ops:
            try:
                async with sessions() as s, s.begin():
                    svc = OrderService(s, conf)
                    if name == "buy":
                        orders.append((await buy_fixed(s, conf, listings[a], buyer_id, 1, now=now,
                                                                          points=b)).id)
                    elif name == "wait":
                        now += STEPS[a]
                    elif orders:
                        oid = orders[a % len(orders)]
                        if name == "cancel":
                            await svc.cancel(oid, buyer_id, now=now)
                        elif name == "ship":
                            await svc.ship(oid, seller_id, now=now)
                        elif name == "confirm":
                            await svc.confirm(oid, buyer_id, now=now)
                        elif name == "refund":
                            await svc.dispute(oid, buyer_id, "broken", now=now)
                            await svc.resolve(oid, admin_id, "refund", now=now)
                        else:
                            await FeedbackService(s, conf).leave(oid, buyer_id, "positive", now=now)
            except DomainError:
                pass
            async with sessions() as s, s.begin():  # the jobs, as the worker would run them by now
                for lot_id, _at in await membership.lots_due(s, now):
                    await membership.unfreeze_lot(s, lot_id, now, conf)
                for lot_id in await membership.lots_expired(s, now):
                    await membership.expire_lot(s, lot_id, now)
        async with sessions() as s:
            report = await audit(s)
            assert report.ok, report.text()
            for state, account in (("frozen", ledger.points_frozen(buyer_id)),
                                   ("available", ledger.points_available(buyer_id))):
                lots = await s.scalar(select(func.coalesce(func.sum(PointsLot.remaining), 0)).where(
                    PointsLot.user_id == buyer_id, PointsLot.state == state))
                assert lots == await ledger.balance(s, account) >= 0
            for key in (ledger.available(buyer_id), ledger.available(seller_id)):
                assert await ledger.balance(s, key) >= 0
    finally:
        await engine.dispose()


@pytest.mark.postgres
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=14))
def test_both_ledgers_balance_after_random_sequences(db_url: str, ops: Any) -> None:
    asyncio.run(_run(db_url, ops))
