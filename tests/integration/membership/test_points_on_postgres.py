"""The points ledger on real PostgreSQL: concurrent redemptions by one user never over-spend, and the jobs
(unfreeze at the second, expiry, level recompute) are safe to run twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.jobs import JobContext, NullPublisher
from marketplace.membership import services as membership
from marketplace.membership import tasks
from marketplace.membership.models import Membership, PointsLot, PointsLotUse
from marketplace.orders.models import Order
from marketplace.orders.services import OrderService, buy_fixed
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.audit import audit
from tests.factories import make_listing, make_user

Sessions = async_sessionmaker[AsyncSession]
TASKS = 12
POINTS_EACH = 500
BALANCE = 2_600  # enough for 5 redemptions of 500, not 6


async def test_concurrent_redemptions_by_one_user_never_over_spend(sessions: Sessions, settings: Settings) -> None:
    now = utcnow()
    async with sessions() as s, s.begin():
        seller, buyer = await make_user(s), await make_user(s, coins=10_000)
        # two lots, so the race also has to split the oldest-first consumption correctly
        await membership.grant_points(s, buyer.id, 1_000, now=now - timedelta(days=400), settings=settings)
        await membership.grant_points(s, buyer.id, BALANCE - 1_000, now=now, settings=settings)
        listing_ids = [(await make_listing(s, seller, price=100)).id for _ in range(TASKS)]
        buyer_id = buyer.id
    start = asyncio.Event()

    async def attempt(listing_id: int) -> int:
        async with sessions() as s:
            await start.wait()
            try:
                async with s.begin():
                    await buy_fixed(s, settings, listing_id, buyer_id, 1, points=POINTS_EACH)
            except DomainError as exc:
                return exc.status_code
            return 201

    runs = [asyncio.create_task(attempt(lid)) for lid in listing_ids]
    await asyncio.sleep(0.05)
    start.set()
    results = await asyncio.gather(*runs)

    assert results.count(201) == BALANCE // POINTS_EACH
    assert all(code == 409 for code in results if code != 201)
    async with sessions() as s:
        available = await ledger.balance(s, ledger.points_available(buyer_id))
        assert available == BALANCE % POINTS_EACH
        lots = list(await s.scalars(select(PointsLot).where(PointsLot.user_id == buyer_id,
                                                            PointsLot.state == "available")))
        assert sum(lot.remaining for lot in lots) == available
        used = list(await s.scalars(select(PointsLotUse)))
        assert sum(u.points for u in used) == POINTS_EACH * results.count(201)
        orders = list(await s.scalars(select(Order).where(Order.buyer_id == buyer_id)))
        assert all(o.total == 90 for o in orders)  # 100 − 500/50
        report = await audit(s)
        assert report.ok, report.text()


def _ctx(sessions: Sessions, settings: Settings, now: datetime, queue: object = None) -> JobContext:
    class Queue:
        def __init__(self) -> None:
            self.jobs: list[tuple[str, tuple[object, ...], datetime | None, str | None]] = []

        async def enqueue(self, name: str, *args: object, defer_until: datetime | None = None,
                          job_id: str | None = None) -> None:
            self.jobs.append((name, args, defer_until, job_id))

    return JobContext(settings=settings, session_factory=sessions, queue=queue or Queue(),  # type: ignore[arg-type]
                      publisher=NullPublisher(), now=lambda: now)


async def test_unfreeze_is_scheduled_at_the_second_and_runs_once(sessions: Sessions, settings: Settings) -> None:
    t0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    async with sessions() as s, s.begin():
        seller, buyer = await make_user(s), await make_user(s, coins=2_000)
        listing = await make_listing(s, seller, price=1_235)
        order = await buy_fixed(s, settings, listing.id, buyer.id, 1, now=t0)
        oid, buyer_id = order.id, buyer.id
    svc_now = t0 + timedelta(hours=1)
    async with sessions() as s, s.begin():
        await OrderService(s, settings).ship(oid, seller.id, now=svc_now)
        await OrderService(s, settings).confirm(oid, buyer_id, now=svc_now)
    due = svc_now + timedelta(seconds=settings.points_freeze_seconds)

    # a sweep shortly before: it schedules the deferred job for the exact second, and unfreezes nothing yet
    ctx = _ctx(sessions, settings, due - timedelta(seconds=3))
    assert await tasks.sweep_points(ctx) == 0
    (name, args, at, job_id), = ctx.queue.jobs  # type: ignore[attr-defined]
    assert (name, at, job_id) == (tasks.UNFREEZE_JOB, due, f"unfreeze:{args[0]}")
    assert await tasks.unfreeze_points(_ctx(sessions, settings, due - timedelta(seconds=1)), args[0]) == "noop"
    assert await tasks.unfreeze_points(_ctx(sessions, settings, due), args[0]) == "unfrozen"
    assert await tasks.unfreeze_points(_ctx(sessions, settings, due), args[0]) == "noop"
    assert await tasks.sweep_points(_ctx(sessions, settings, due + timedelta(seconds=5))) == 0
    async with sessions() as s:
        assert await ledger.balance(s, ledger.points_available(buyer_id)) == 124  # 1,235 coins → 124 points
        assert await ledger.balance(s, ledger.points_frozen(buyer_id)) == 0
        lot = await s.scalar(select(PointsLot).where(PointsLot.order_id == oid))
        assert lot is not None
        # credited in 2026 (Shanghai) → expires 2027-12-31 23:59:59 +08:00
        assert lot.expires_at == datetime(2027, 12, 31, 15, 59, 59, tzinfo=UTC)
        level = await s.get(Membership, buyer_id)
        assert level is not None
        assert (level.level, level.effective_spend) == ("J1", 1_235)

    # the expiry job: nothing before the second, everything at it, and re-running changes nothing
    expiry = datetime(2027, 12, 31, 15, 59, 59, tzinfo=UTC)
    assert await tasks.expire_due(_ctx(sessions, settings, expiry - timedelta(seconds=1))) == 0
    assert await tasks.expire_due(_ctx(sessions, settings, expiry)) == 124
    assert await tasks.expire_due(_ctx(sessions, settings, expiry + timedelta(days=1))) == 0
    async with sessions() as s:
        assert await ledger.balance(s, ledger.points_available(buyer_id)) == 0
        assert await ledger.balance(s, ledger.platform("points_expired")) == 124
        report = await audit(s)
        assert report.ok, report.text()

    # a year later the window has slid: the daily recompute drops the buyer back to registered
    assert await tasks.recompute_levels(_ctx(sessions, settings, svc_now + timedelta(days=366))) == 1
    assert await tasks.recompute_levels(_ctx(sessions, settings, svc_now + timedelta(days=367))) == 0
    async with sessions() as s:
        level = await s.get(Membership, buyer_id)
        assert level is not None
        assert level.level == "registered"
