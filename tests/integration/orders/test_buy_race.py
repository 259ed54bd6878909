"""20 buyers race for the last 3 units on real PostgreSQL: exactly 3 win, nobody else pays a coin."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.errors import DomainError
from marketplace.listings.models import Listing
from marketplace.orders.models import Order
from marketplace.orders.services import buy_fixed
from marketplace.settings import Settings
from marketplace.wallet import ledger
from tests.factories import make_listing, make_user

BUYERS = 20
STOCK = 3
PRICE = 40


class RecordingPublisher:
    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self.messages.append((channel, message))


async def assert_ledger_balances(session: AsyncSession) -> None:
    try:
        from marketplace.wallet.audit import audit  # written by the wallet helper
    except ImportError:
        audit = None
    if audit is not None:
        report = await audit(session)
        assert getattr(report, "ok", True), report
    # Independent of the audit module: every transaction and the whole ledger sum to zero, and every running
    # balance equals the sum of its entries.
    assert await session.scalar(text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entries")) == 0
    unbalanced = (await session.execute(text(
        "SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING SUM(amount) <> 0"))).all()
    assert unbalanced == []
    drift = (await session.execute(text(
        "SELECT a.id FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id "
        "WHERE a.kind IN ('available', 'held', 'escrow') GROUP BY a.id, a.balance "
        "HAVING a.balance <> COALESCE(SUM(e.amount), 0)"))).all()
    assert drift == []


async def test_twenty_buyers_race_for_the_last_three_units(sessions: async_sessionmaker[AsyncSession],
                                                           settings: Settings) -> None:
    async with sessions() as s, s.begin():
        seller = await make_user(s)
        listing = await make_listing(s, seller, price=PRICE, quantity=STOCK)
        buyers = [(await make_user(s, coins=100)).id for _ in range(BUYERS)]
        listing_id = listing.id
    publisher = RecordingPublisher()
    start = asyncio.Event()

    async def attempt(buyer_id: int) -> int:
        async with sessions() as s:
            await start.wait()
            try:
                async with s.begin():
                    await buy_fixed(s, settings, listing_id, buyer_id, 1, publisher=publisher)
            except DomainError as exc:
                return exc.status_code
            return 201

    tasks = [asyncio.create_task(attempt(b)) for b in buyers]
    await asyncio.sleep(0.05)  # let every task open its session and wait at the start line
    start.set()
    results = await asyncio.gather(*tasks)

    assert sorted(results).count(201) == STOCK
    assert all(code == 409 for code in results if code != 201)
    async with sessions() as s:
        row = await s.get(Listing, listing_id)
        assert row is not None
        assert (row.quantity_available, row.status) == (0, "sold")
        orders = list(await s.scalars(select(Order).where(Order.listing_id == listing_id)))
        assert len(orders) == STOCK
        winners = {o.buyer_id for o in orders}
        for buyer_id, code in zip(buyers, results, strict=True):
            available, held = await ledger.wallet_balances(s, buyer_id)
            assert (available, held) == ((100 - PRICE) if code == 201 else 100, 0)
            assert (buyer_id in winners) == (code == 201)
        for order in orders:
            assert await ledger.balance(s, ledger.escrow(order.id)) == PRICE
        assert await s.scalar(select(func.count()).select_from(Order)) == STOCK
        await assert_ledger_balances(s)
    from marketplace.db import drain_after_commit

    await drain_after_commit()
    stock_messages = [m for c, m in publisher.messages if c == f"listing:{listing_id}"]
    assert sorted(m["quantity_available"] for m in stock_messages) == [0, 1, 2]
