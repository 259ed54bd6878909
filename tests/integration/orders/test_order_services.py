"""OrderService on PostgreSQL: coins move exactly as docs/rules.md §5/§7 say, and the ledger stays balanced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.db import utcnow
from marketplace.listings.models import Listing
from marketplace.orders.exceptions import FeedbackNotAllowed, InvalidTransition, NotYourOrder, WrongParty
from marketplace.orders.models import Feedback, OrderEvent
from marketplace.orders.services import FeedbackService, OrderService, auto_confirm_overdue
from marketplace.settings import Settings
from marketplace.wallet import ledger
from tests.factories import ledger_problems, make_order, quick_user

SETTINGS = Settings()


async def balances(session: AsyncSession, order: Any) -> dict[str, int]:
    return {
        "buyer": (await ledger.wallet_balances(session, order.buyer_id))[0],
        "seller": (await ledger.wallet_balances(session, order.seller_id))[0],
        "escrow": await ledger.balance(session, ledger.escrow(order.id)),
        "revenue": await ledger.balance(session, ledger.platform("revenue")),
    }


async def test_confirm_pays_the_seller_total_minus_fee(session: AsyncSession) -> None:
    order = await make_order(session, price=21, quantity=3, stock=5)
    assert await balances(session, order) == {"buyer": 0, "seller": 0, "escrow": 63, "revenue": 0}
    svc = OrderService(session, SETTINGS)
    await svc.ship(order.id, order.seller_id, "SF123")
    assert order.status == "shipped"
    assert order.shipped_at
    assert order.tracking == "SF123"
    await svc.confirm(order.id, order.buyer_id)
    assert order.status == "completed"
    assert order.completed_at
    assert order.fee == 4  # 5 % of 63 = 3.15, rounded up
    assert await balances(session, order) == {"buyer": 0, "seller": 59, "escrow": 0, "revenue": 4}
    events = list(await session.scalars(select(OrderEvent.to_status).where(OrderEvent.order_id == order.id)
                                        .order_by(OrderEvent.id)))
    assert events == ["paid", "shipped", "completed"]
    assert await ledger_problems(session) == []


async def test_cancel_refunds_in_full_and_restores_stock(session: AsyncSession) -> None:
    order = await make_order(session, price=50, quantity=2)
    listing = await session.get(Listing, order.listing_id)
    assert listing is not None
    assert listing.status == "sold"
    assert listing.quantity_available == 0
    await OrderService(session, SETTINGS).cancel(order.id, order.seller_id)
    assert order.status == "cancelled"
    assert order.fee == 0
    assert await balances(session, order) == {"buyer": 100, "seller": 0, "escrow": 0, "revenue": 0}
    assert listing.status == "active"
    assert listing.quantity_available == 2
    assert await ledger_problems(session) == []


async def test_cancel_of_a_partial_purchase_adds_the_units_back(session: AsyncSession) -> None:
    order = await make_order(session, price=10, quantity=2, stock=5)
    await OrderService(session, SETTINGS).cancel(order.id, order.buyer_id)
    listing = await session.get(Listing, order.listing_id)
    assert listing is not None
    assert listing.status == "active"
    assert listing.quantity_available == 5


async def test_cancel_of_an_auction_order_leaves_the_listing_alone(session: AsyncSession) -> None:
    order = await make_order(session, price=30, mode="auction")
    await OrderService(session, SETTINGS).cancel(order.id, order.buyer_id)
    listing = await session.get(Listing, order.listing_id)
    assert listing is not None
    assert listing.status == "sold"
    assert listing.quantity_available == 0
    assert (await balances(session, order))["buyer"] == 30


async def test_cancel_of_an_ended_listing_does_not_put_it_back_on_sale(session: AsyncSession) -> None:
    order = await make_order(session, price=10, quantity=1, stock=3)
    listing = await session.get(Listing, order.listing_id)
    assert listing is not None
    listing.status = "ended"
    await OrderService(session, SETTINGS).cancel(order.id, order.buyer_id)
    assert listing.status == "ended"
    assert listing.quantity_available == 3


async def test_wrong_party_and_wrong_state(session: AsyncSession) -> None:
    order = await make_order(session)
    stranger = await quick_user(session)
    svc = OrderService(session, SETTINGS)
    with pytest.raises(WrongParty):
        await svc.ship(order.id, order.buyer_id)
    with pytest.raises(NotYourOrder):
        await svc.cancel(order.id, stranger.id)
    with pytest.raises(WrongParty):  # an admin who is not a party may look, not act for the parties
        await svc.ship(order.id, stranger.id, is_admin=True)
    with pytest.raises(InvalidTransition):
        await svc.confirm(order.id, order.buyer_id)
    with pytest.raises(InvalidTransition):
        await svc.resolve(order.id, stranger.id, "refund")
    await svc.ship(order.id, order.seller_id)
    with pytest.raises(InvalidTransition):
        await svc.cancel(order.id, order.buyer_id)
    assert order.status == "shipped"


@pytest.mark.parametrize(("outcome", "status", "buyer", "seller", "revenue"), [
    ("refund", "refunded", 200, 0, 0),
    ("release", "completed", 0, 190, 10),
])
async def test_dispute_then_resolve(session: AsyncSession, outcome: str, status: str, buyer: int, seller: int,
                                    revenue: int) -> None:
    order = await make_order(session, price=200)
    admin = await quick_user(session)
    svc = OrderService(session, SETTINGS)
    await svc.ship(order.id, order.seller_id)
    with pytest.raises(WrongParty):
        await svc.dispute(order.id, order.seller_id, "no")
    await svc.dispute(order.id, order.buyer_id, "arrived broken")
    assert order.status == "disputed"
    assert order.dispute_reason == "arrived broken"
    # a disputed order is out of the auto-confirm sweep's reach
    assert not await svc.auto_confirm(order.id, utcnow() + timedelta(days=30))
    await svc.resolve(order.id, admin.id, outcome)
    assert order.status == status
    assert await balances(session, order) == {"buyer": buyer, "seller": seller, "escrow": 0, "revenue": revenue}
    with pytest.raises(InvalidTransition):
        await svc.resolve(order.id, admin.id, outcome)
    assert await ledger_problems(session) == []


async def test_auto_confirm_job_pays_only_overdue_orders(sessions: Any) -> None:
    async with sessions() as s, s.begin():
        due = await make_order(s, price=100)
        fresh = await make_order(s, price=100)
        t0 = utcnow()
        await OrderService(s, SETTINGS).ship(due.id, due.seller_id, now=t0 - timedelta(days=10))
        await OrderService(s, SETTINGS).ship(fresh.id, fresh.seller_id, now=t0 - timedelta(days=9, hours=23))
    assert await auto_confirm_overdue(sessions, SETTINGS, t0) == 1
    assert await auto_confirm_overdue(sessions, SETTINGS, t0) == 0  # idempotent
    async with sessions() as s:
        assert await balances(s, due) == {"buyer": 0, "seller": 95, "escrow": 0, "revenue": 5}
        assert (await balances(s, fresh))["escrow"] == 100
        events = list(await s.scalars(select(OrderEvent).where(OrderEvent.order_id == due.id)
                                      .order_by(OrderEvent.id)))
        assert events[-1].to_status == "completed"
        assert events[-1].actor_id is None
        assert "automatically" in events[-1].note
    assert await auto_confirm_overdue(sessions, SETTINGS, t0 + timedelta(hours=1)) == 1
    async with sessions() as s:
        assert await ledger_problems(s) == []


async def test_the_periodic_job_uses_the_context_clock(sessions: Any) -> None:
    from marketplace.jobs import PERIODIC, JobContext, NullPublisher
    from marketplace.orders import tasks

    assert PERIODIC["auto_confirm_orders"].every == timedelta(minutes=10)
    async with sessions() as s, s.begin():
        order = await make_order(s, price=40)
        await OrderService(s, SETTINGS).ship(order.id, order.seller_id)
    later = utcnow() + timedelta(days=10, seconds=1)
    ctx = JobContext(settings=SETTINGS, session_factory=sessions, queue=None,  # type: ignore[arg-type]
                     publisher=NullPublisher(), now=lambda: later)
    assert await tasks.auto_confirm_orders(ctx) == 1
    assert await tasks.auto_confirm_orders(ctx) == 0


async def test_feedback_once_per_side_on_completed_orders(session: AsyncSession) -> None:
    order = await make_order(session, price=10)
    stranger = await quick_user(session)
    fb = FeedbackService(session)
    with pytest.raises(FeedbackNotAllowed):
        await fb.leave(order.id, order.buyer_id, "positive", "too early")
    svc = OrderService(session, SETTINGS)
    await svc.ship(order.id, order.seller_id)
    await svc.confirm(order.id, order.buyer_id)
    with pytest.raises(NotYourOrder):
        await fb.leave(order.id, stranger.id, "positive")
    await fb.leave(order.id, order.buyer_id, "positive", "Fast shipping")
    await fb.leave(order.id, order.seller_id, "negative", "Slow payer")
    with pytest.raises(FeedbackNotAllowed):
        await fb.leave(order.id, order.buyer_id, "neutral")
    rows = list(await session.scalars(select(Feedback).order_by(Feedback.id)))
    assert [(f.role, f.to_user_id) for f in rows] == [("buyer", order.seller_id), ("seller", order.buyer_id)]
    seller_profile = await fb.profile_context(order.seller_id)
    assert seller_profile["feedback_score"] == 1
    assert seller_profile["positive_percent"] == 100.0
    assert [(f.rating, f.comment, f.role) for f in seller_profile["feedback"]] == [
        ("positive", "Fast shipping", "buyer")]
    buyer_profile = await fb.profile_context(order.buyer_id)
    assert buyer_profile["feedback_score"] == -1
    assert buyer_profile["positive_percent"] == 0.0
    assert (await fb.profile_context(stranger.id))["positive_percent"] is None


async def test_cancel_announces_the_restored_stock_after_commit(sessions: Any) -> None:
    from marketplace.db import drain_after_commit

    class Recorder:
        def __init__(self) -> None:
            self.sent: list[tuple[str, dict[str, Any]]] = []

        async def publish(self, channel: str, message: dict[str, Any]) -> None:
            self.sent.append((channel, message))

    recorder = Recorder()
    async with sessions() as s, s.begin():
        order = await make_order(s, price=5, quantity=1, stock=1)
    async with sessions() as s:
        async with s.begin():
            await OrderService(s, SETTINGS, publisher=recorder).cancel(order.id, order.buyer_id)
            assert recorder.sent == []  # nothing before the commit
        await drain_after_commit()
    assert recorder.sent == [(f"listing:{order.listing_id}",
                              {"type": "stock", "quantity_available": 1, "status": "active"})]
