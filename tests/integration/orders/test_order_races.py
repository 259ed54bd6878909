"""Races on real PostgreSQL: separate sessions, real concurrent tasks, one winner, coins moved once.

Each race is run on several orders at once so the two contenders really do collide on the row lock (not just
run one after the other); whatever the interleaving, the outcome per order must be one of the serial ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.listings.models import Listing
from marketplace.orders.exceptions import InvalidTransition
from marketplace.orders.models import Feedback, Order
from marketplace.orders.services import FeedbackService, OrderService, auto_confirm_overdue
from marketplace.settings import Settings
from marketplace.wallet import ledger
from tests.factories import ledger_problems, make_order

SETTINGS = Settings()
ROUNDS = 6
Sessions = async_sessionmaker[AsyncSession]


async def in_tx(sessions: Sessions, fn: Callable[[OrderService], Awaitable[Any]]) -> str:
    """Run one contender in its own session and transaction; report "ok" or the refusal's status code."""
    try:
        async with sessions() as s, s.begin():
            await fn(OrderService(s, SETTINGS))
    except DomainError as exc:
        return str(exc.status_code)
    return "ok"


async def kinds_for(session: AsyncSession, order_id: int) -> list[str]:
    return sorted(await session.scalars(text(
        "SELECT kind FROM ledger_transactions WHERE ref_type = 'order' AND ref_id = :id"), {"id": order_id}))


async def test_buyer_confirm_racing_the_auto_confirm_job_pays_out_once(sessions: Sessions) -> None:
    shipped_at = utcnow() - timedelta(days=11)
    async with sessions() as s, s.begin():
        orders = [await make_order(s, price=101) for _ in range(ROUNDS)]
        for o in orders:
            await OrderService(s, SETTINGS).ship(o.id, o.seller_id, now=shipped_at)
    now = utcnow()
    results = await asyncio.gather(
        auto_confirm_overdue(sessions, SETTINGS, now),
        *[in_tx(sessions, lambda svc, o=o: svc.confirm(o.id, o.buyer_id)) for o in orders],
    )
    swept, confirms = results[0], results[1:]
    assert swept + confirms.count("ok") == ROUNDS
    assert set(confirms) <= {"ok", "409"}
    async with sessions() as s:
        for o in orders:
            assert await kinds_for(s, o.id) == ["fee", "payout", "purchase"]
            assert (await ledger.wallet_balances(s, o.seller_id))[0] == 101 - 6
            assert await ledger.balance(s, ledger.escrow(o.id)) == 0
            assert (await s.get(Order, o.id)).status == "completed"  # type: ignore[union-attr]
        assert await ledger.balance(s, ledger.platform("revenue")) == 6 * ROUNDS
        assert await ledger_problems(s) == []


async def test_confirm_and_auto_confirm_colliding_on_each_order_pay_once(sessions: Sessions) -> None:
    """The sweep above walks its orders one by one; here each order gets both contenders at the same instant."""
    async with sessions() as s, s.begin():
        orders = [await make_order(s, price=40) for _ in range(ROUNDS)]
        for o in orders:
            await OrderService(s, SETTINGS).ship(o.id, o.seller_id, now=utcnow() - timedelta(days=10))
    now = utcnow()

    async def auto(svc: OrderService, order_id: int) -> None:
        if not await svc.auto_confirm(order_id, now):
            raise InvalidTransition("already completed")

    pairs = await asyncio.gather(*[
        asyncio.gather(in_tx(sessions, lambda svc, o=o: svc.confirm(o.id, o.buyer_id)),
                       in_tx(sessions, lambda svc, o=o: auto(svc, o.id)))
        for o in orders
    ])
    async with sessions() as s:
        for o, pair in zip(orders, pairs, strict=True):
            assert sorted(pair) == ["409", "ok"]
            assert await kinds_for(s, o.id) == ["fee", "payout", "purchase"]
            assert (await ledger.wallet_balances(s, o.seller_id))[0] == 38
        assert await ledger_problems(s) == []


async def test_two_auto_confirm_sweeps_at_once_pay_once(sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        orders = [await make_order(s, price=20) for _ in range(ROUNDS)]
        for o in orders:
            await OrderService(s, SETTINGS).ship(o.id, o.seller_id, now=utcnow() - timedelta(days=10))
    now = utcnow()
    a, b = await asyncio.gather(auto_confirm_overdue(sessions, SETTINGS, now),
                                auto_confirm_overdue(sessions, SETTINGS, now))
    assert a + b == ROUNDS
    async with sessions() as s:
        for o in orders:
            assert (await ledger.wallet_balances(s, o.seller_id))[0] == 19
        assert await ledger_problems(s) == []


async def test_cancel_racing_ship_has_exactly_one_winner(sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        orders = [await make_order(s, price=70) for _ in range(ROUNDS)]
    pairs = await asyncio.gather(*[
        asyncio.gather(in_tx(sessions, lambda svc, o=o: svc.cancel(o.id, o.buyer_id)),
                       in_tx(sessions, lambda svc, o=o: svc.ship(o.id, o.seller_id, "T1")))
        for o in orders
    ])
    async with sessions() as s:
        for o, (cancelled, shipped) in zip(orders, pairs, strict=True):
            assert sorted([cancelled, shipped]) == ["409", "ok"]
            order = await s.get(Order, o.id)
            listing = await s.get(Listing, o.listing_id)
            assert order is not None
            assert listing is not None
            buyer_available = (await ledger.wallet_balances(s, o.buyer_id))[0]
            escrow = await ledger.balance(s, ledger.escrow(o.id))
            if cancelled == "ok":
                assert (order.status, buyer_available, escrow) == ("cancelled", 70, 0)
                assert (listing.status, listing.quantity_available) == ("active", 1)
            else:
                assert (order.status, buyer_available, escrow) == ("shipped", 0, 70)
                assert (listing.status, listing.quantity_available) == ("sold", 0)
        assert await ledger_problems(s) == []


async def test_buyer_and_seller_cancelling_together_refund_once(sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        orders = [await make_order(s, price=30, quantity=1, stock=2) for _ in range(ROUNDS)]
    pairs = await asyncio.gather(*[
        asyncio.gather(in_tx(sessions, lambda svc, o=o: svc.cancel(o.id, o.buyer_id)),
                       in_tx(sessions, lambda svc, o=o: svc.cancel(o.id, o.seller_id)))
        for o in orders
    ])
    async with sessions() as s:
        for o, pair in zip(orders, pairs, strict=True):
            assert sorted(pair) == ["409", "ok"]
            assert (await ledger.wallet_balances(s, o.buyer_id))[0] == 30
            assert await kinds_for(s, o.id) == ["purchase", "refund"]
            listing = await s.get(Listing, o.listing_id)
            assert listing is not None
            assert listing.quantity_available == 2
        assert await ledger_problems(s) == []


async def test_resolve_refund_racing_release_settles_once(sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        from tests.factories import quick_user

        admin = await quick_user(s)
        orders = [await make_order(s, price=100) for _ in range(ROUNDS)]
        for o in orders:
            await OrderService(s, SETTINGS).ship(o.id, o.seller_id)
            await OrderService(s, SETTINGS).dispute(o.id, o.buyer_id, "never arrived")
    pairs = await asyncio.gather(*[
        asyncio.gather(in_tx(sessions, lambda svc, o=o: svc.resolve(o.id, admin.id, "refund")),
                       in_tx(sessions, lambda svc, o=o: svc.resolve(o.id, admin.id, "release")))
        for o in orders
    ])
    async with sessions() as s:
        for o, pair in zip(orders, pairs, strict=True):
            assert sorted(pair) == ["409", "ok"]
            buyer = (await ledger.wallet_balances(s, o.buyer_id))[0]
            seller = (await ledger.wallet_balances(s, o.seller_id))[0]
            assert (buyer, seller) in {(100, 0), (0, 95)}
        assert await ledger_problems(s) == []


async def test_double_feedback_submitted_at_once_is_stored_once(sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        o = await make_order(s, price=10)
        await OrderService(s, SETTINGS).ship(o.id, o.seller_id)
        await OrderService(s, SETTINGS).confirm(o.id, o.buyer_id)

    async def leave() -> str:
        try:
            async with sessions() as s, s.begin():
                await FeedbackService(s).leave(o.id, o.buyer_id, "positive", "ok")
        except DomainError as exc:
            return str(exc.status_code)
        return "ok"

    assert sorted(await asyncio.gather(leave(), leave(), leave())) == ["409", "409", "ok"]
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Feedback)) == 1
