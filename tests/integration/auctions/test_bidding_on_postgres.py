"""Bidding and closing on real PostgreSQL with real concurrent transactions, then the ledger audit."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.auctions import rules, scheduling, services, tasks
from marketplace.auctions.models import Bid
from marketplace.auctions.schemas import channel_name, state_of
from marketplace.auctions.services import BidService
from marketplace.db import drain_after_commit, utcnow
from marketplace.errors import DomainError
from marketplace.jobs import JobContext
from marketplace.listings.models import Listing
from marketplace.orders.models import Order
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.models import LedgerAccount
from tests.factories import fund, make_listing

SETTINGS = Settings()


async def quick_users(session: AsyncSession, n: int, coins: int, prefix: str = "b") -> list[int]:
    """Users without password hashing (argon2 would take a minute for 200), each funded."""
    users = [User(username=f"{prefix}{i}", email=f"{prefix}{i}@example.com", password_hash="!") for i in range(n)]
    session.add_all(users)
    await session.flush()
    for u in users:
        if coins:
            await fund(session, u.id, coins)
    return [u.id for u in users]


async def audit(session: AsyncSession) -> None:
    """docs/rules.md §8: every transaction sums to 0, running balances equal their entries, no user balance < 0."""
    bad_txn = await session.scalar(text(
        "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY transaction_id "
        "HAVING sum(amount) <> 0) t"))
    assert bad_txn == 0
    drift = await session.scalar(text(
        "SELECT count(*) FROM ledger_accounts a LEFT JOIN (SELECT account_id, sum(amount) s FROM ledger_entries "
        "GROUP BY account_id) e ON e.account_id = a.id "
        "WHERE a.kind IN ('available', 'held', 'escrow') AND a.balance <> coalesce(e.s, 0)"))
    assert drift == 0
    assert await session.scalar(text("SELECT coalesce(sum(amount), 0) FROM ledger_entries")) == 0
    assert await session.scalar(text("SELECT count(*) FROM ledger_accounts WHERE balance < 0")) == 0


async def held_by_user(session: AsyncSession) -> dict[int, int]:
    rows = (await session.execute(
        select(LedgerAccount.user_id, LedgerAccount.balance).where(LedgerAccount.kind == "held",
                                                                   LedgerAccount.balance != 0))).all()
    return {int(u): int(b) for u, b in rows}


@dataclass
class Recorder:
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    enqueued: list[tuple[str, tuple[Any, ...], datetime | None, str | None]] = field(default_factory=list)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self.published.append((channel, message))

    async def enqueue(self, name: str, *args: Any, defer_until: datetime | None = None,
                      job_id: str | None = None) -> None:
        self.enqueued.append((name, args, defer_until, job_id))


def job_context(sessions: async_sessionmaker[AsyncSession], recorder: Recorder) -> JobContext:
    return JobContext(settings=SETTINGS, session_factory=sessions, queue=recorder, publisher=recorder)


async def test_200_concurrent_bidders_match_the_pure_rules(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        (seller_id,) = await quick_users(s, 1, 0, prefix="seller")
        bidders = await quick_users(s, 200, 1_000_000)
        seller = await s.get(User, seller_id)
        listing = await make_listing(s, seller, mode="auction", start_price=10, duration_seconds=3600)
        lid = listing.id
        initial = state_of(listing)

    rng = random.Random(20261125)
    # Loosely rising maxima with noise: many bids race for the lead, many arrive too low, some tie.
    maxima = {uid: 10 + 20 * i + rng.randint(0, 400) for i, uid in enumerate(bidders)}

    async def one(uid: int) -> bool:
        async with sessions() as s:
            try:
                async with s.begin():
                    await BidService(s, SETTINGS).place_bid(lid, uid, maxima[uid], utcnow())
            except DomainError:
                return False
            return True

    started = time.perf_counter()
    accepted = await asyncio.gather(*(one(uid) for uid in bidders))
    elapsed = time.perf_counter() - started
    assert sum(accepted) >= 2
    print(f"200 concurrent bidders: {sum(accepted)} accepted, {200 - sum(accepted)} refused in {elapsed:.2f}s")

    async with sessions() as s:
        listing = await s.get(Listing, lid)
        assert listing is not None
        bids = list(await s.scalars(select(Bid).where(Bid.listing_id == lid).order_by(Bid.id)))
        assert len(bids) == sum(accepted) == listing.bid_count
        # Replay the accepted bids, in commit (id) order, through the pure rules.
        state = initial
        for b in bids:
            out = rules.place_bid(state, b.bidder_id, b.max_amount, b.created_at, available=10**12)
            assert out.accepted, (b.id, out.refusal)
            state = out.state
            assert (b.price_after, b.leader_id_after) == (state.current_price, state.leader_id)
        assert state == state_of(listing)
        # The leader has the highest maximum of all accepted bids; the earliest of equal maxima.
        best = max(b.max_amount for b in bids)
        assert listing.leader_max == best
        assert listing.leader_id == next(b.bidder_id for b in bids if b.max_amount == best)
        # Exactly one non-zero hold: the leader's, equal to their maximum.
        assert await held_by_user(s) == {listing.leader_id: listing.leader_max}
        await audit(s)


async def ended_auction_with_bids(sessions: async_sessionmaker[AsyncSession], *, reserve: int | None = None,
                                  amounts: tuple[int, int] = (500, 300)) -> tuple[int, int, int]:
    async with sessions() as s, s.begin():
        seller_id, a, b = await quick_users(s, 3, 1000, prefix=f"c{random.randint(0, 10**9)}_")
        listing = await make_listing(s, await s.get(User, seller_id), mode="auction", start_price=100,
                                     reserve_price=reserve)
        lid = listing.id
    for uid, amount in zip((a, b), amounts, strict=True):
        async with sessions() as s, s.begin():
            await BidService(s, SETTINGS).place_bid(lid, uid, amount, utcnow())
    async with sessions() as s, s.begin():
        await s.execute(update(Listing).where(Listing.id == lid).values(ends_at=utcnow() - timedelta(seconds=1)))
    return lid, a, b


async def test_close_twice_concurrently_plus_sweeper_makes_one_order(sessions: Any) -> None:
    lid, a, _b = await ended_auction_with_bids(sessions)
    rec = Recorder()
    ctx = job_context(sessions, rec)
    results = await asyncio.gather(tasks.close_auction(ctx, lid), tasks.close_auction(ctx, lid),
                                   tasks.sweep_auctions(ctx))
    closes = [r for r in results[:2] if r == "closed"]
    assert len(closes) + results[2] == 1
    async with sessions() as s:
        orders = list(await s.scalars(select(Order).where(Order.listing_id == lid)))
        assert len(orders) == 1
        assert (orders[0].buyer_id, orders[0].total) == (a, 305)  # min(500, 300 + 5)
        listing = await s.get(Listing, lid)
        assert listing is not None
        assert listing.status == "sold"
        assert await ledger.wallet_balances(s, a) == (1000 - 305, 0)
        assert await ledger.balance(s, ledger.escrow(orders[0].id)) == 305
        await audit(s)
    closed = [m for _, m in rec.published if m["type"] == "closed"]
    assert closed == [closed[0]]
    assert (closed[0]["status"], closed[0]["final_price"]) == ("sold", 305)


async def test_close_interrupted_after_the_order_insert_then_retried(sessions: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    lid, a, _b = await ended_auction_with_bids(sessions)
    real_open_order = services.open_order

    async def crash_after_insert(*args: Any, **kw: Any) -> Order:
        await real_open_order(*args, **kw)
        raise RuntimeError("worker died mid-settlement")

    monkeypatch.setattr(services, "open_order", crash_after_insert)
    ctx = job_context(sessions, Recorder())
    with pytest.raises(RuntimeError):
        await tasks.close_auction(ctx, lid)
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 0
        assert (await s.get(Listing, lid)).status == "active"  # type: ignore[union-attr]
        assert await held_by_user(s) == {a: 500}
    monkeypatch.setattr(services, "open_order", real_open_order)
    assert await tasks.close_auction(ctx, lid) == "closed"
    assert await tasks.close_auction(ctx, lid) == "noop"
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 1
        assert await held_by_user(s) == {}
        await audit(s)


async def test_unsold_when_reserve_not_met_releases_hold(sessions: Any) -> None:
    lid, a, _b = await ended_auction_with_bids(sessions, reserve=900)
    rec = Recorder()
    assert await tasks.sweep_auctions(job_context(sessions, rec)) == 1
    async with sessions() as s:
        assert (await s.get(Listing, lid)).status == "unsold"  # type: ignore[union-attr]
        assert await s.scalar(select(func.count()).select_from(Order)) == 0
        assert await ledger.wallet_balances(s, a) == (1000, 0)
        await audit(s)
    assert rec.published[-1][1] == {**rec.published[-1][1], "type": "closed", "status": "unsold"}


async def test_close_without_bids_is_unsold(sessions: Any) -> None:
    async with sessions() as s, s.begin():
        (seller_id,) = await quick_users(s, 1, 0, prefix="lonely")
        listing = await make_listing(s, await s.get(User, seller_id), mode="auction",
                                     ends_at=utcnow() - timedelta(seconds=1))
        lid = listing.id
    assert await tasks.close_auction(job_context(sessions, Recorder()), lid) == "closed"
    async with sessions() as s:
        assert (await s.get(Listing, lid)).status == "unsold"  # type: ignore[union-attr]


async def test_close_job_redefers_when_the_end_moved(sessions: Any) -> None:
    async with sessions() as s, s.begin():
        (seller_id,) = await quick_users(s, 1, 0, prefix="later")
        listing = await make_listing(s, await s.get(User, seller_id), mode="auction", duration_seconds=600)
        lid, ends_at = listing.id, listing.ends_at
    rec = Recorder()
    assert await tasks.close_auction(job_context(sessions, rec), lid) == "rescheduled"
    assert rec.enqueued == [("close_auction", (lid,), ends_at, scheduling.close_job_id(lid, ends_at))]
    async with sessions() as s:
        assert (await s.get(Listing, lid)).status == "active"  # type: ignore[union-attr]


async def test_extension_reschedules_close_and_publishes_after_commit(sessions: Any) -> None:
    async with sessions() as s, s.begin():
        seller_id, a, b = await quick_users(s, 3, 1000, prefix="ext")
        end = utcnow() + timedelta(seconds=60)
        listing = await make_listing(s, await s.get(User, seller_id), mode="auction", start_price=10, ends_at=end)
        lid = listing.id
    rec = Recorder()
    for uid, amount in ((a, 100), (b, 50)):
        await drain_after_commit()
        before = len(rec.published)
        async with sessions() as s, s.begin():
            await BidService(s, SETTINGS, publisher=rec, jobs=rec).place_bid(lid, uid, amount, utcnow())
            await asyncio.sleep(0)
            assert len(rec.published) == before  # nothing announced before the commit
    await drain_after_commit()
    assert [m["current_price"] for _, m in rec.published] == [10, 51]
    new_end = end + timedelta(minutes=5)
    assert rec.enqueued == [("close_auction", (lid,), new_end, scheduling.close_job_id(lid, new_end))]


async def test_failed_bid_rolls_back_everything(sessions: Any) -> None:
    """A bid whose hold fails (coins spent elsewhere between the check and the post) leaves no bid and no hold."""
    async with sessions() as s, s.begin():
        seller_id, a = await quick_users(s, 2, 100, prefix="race")
        lid = (await make_listing(s, await s.get(User, seller_id), mode="auction", start_price=10)).id
    async with sessions() as s:
        with pytest.raises(DomainError):
            async with s.begin():
                await BidService(s, SETTINGS).place_bid(lid, a, 101, utcnow())
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Bid)) == 0
        assert await held_by_user(s) == {}


async def test_end_without_sale_releases_the_leaders_hold(sessions: Any) -> None:
    async with sessions() as s, s.begin():
        seller_id, a = await quick_users(s, 2, 1000, prefix="mod")
        lid = (await make_listing(s, await s.get(User, seller_id), mode="auction", start_price=10)).id
    async with sessions() as s, s.begin():
        await BidService(s, SETTINGS).place_bid(lid, a, 400, utcnow())
    async with sessions() as s, s.begin():
        listing = await BidService(s, SETTINGS).end_without_sale(lid, utcnow())
        assert listing.status == "removed"
    async with sessions() as s:
        assert await ledger.wallet_balances(s, a) == (1000, 0)
        await audit(s)
    assert await tasks.sweep_auctions(job_context(sessions, Recorder())) == 0


async def test_two_concurrent_batched_sweeps_settle_each_auction_exactly_once(sessions: Any) -> None:
    """Two workers' sweeps at once over many due auctions (docs/performance.md, P4): SKIP LOCKED shares the rows,
    every auction is closed by exactly one of the 2 × SWEEP_CONCURRENCY closers, one order per sold auction."""
    n = 40
    async with sessions() as s, s.begin():
        seller_id, a, b = await quick_users(s, 3, 1_000_000, prefix="sweep")
        seller = await s.get(User, seller_id)
        lids = [(await make_listing(s, seller, mode="auction", start_price=10,
                                    reserve_price=500 if i % 4 == 0 else None)).id for i in range(n)]
    for lid in lids:
        async with sessions() as s, s.begin():
            await BidService(s, SETTINGS).place_bid(lid, a, 300, utcnow())
            await BidService(s, SETTINGS).place_bid(lid, b, 200, utcnow())
    async with sessions() as s, s.begin():
        await s.execute(update(Listing).where(Listing.id.in_(lids)).values(ends_at=utcnow() - timedelta(seconds=1)))
    rec_1, rec_2 = Recorder(), Recorder()
    closed_1, closed_2 = await asyncio.gather(tasks.sweep_auctions(job_context(sessions, rec_1)),
                                              tasks.sweep_auctions(job_context(sessions, rec_2)))
    assert closed_1 + closed_2 == n
    announced = [channel for channel, m in rec_1.published + rec_2.published if m["type"] == "closed"]
    assert sorted(announced) == sorted(channel_name(lid) for lid in lids)
    async with sessions() as s:
        statuses = dict((await s.execute(select(Listing.id, Listing.status).where(Listing.id.in_(lids)))).all())
        assert statuses == {lid: "unsold" if i % 4 == 0 else "sold" for i, lid in enumerate(lids)}
        orders = (await s.execute(select(Order.listing_id, func.count()).group_by(Order.listing_id))).all()
        assert sorted(lid for lid, _ in orders) == sorted(lid for i, lid in enumerate(lids) if i % 4)
        assert all(count == 1 for _, count in orders)
        assert await held_by_user(s) == {}
        await audit(s)
    assert await tasks.sweep_auctions(job_context(sessions, Recorder())) == 0


async def test_a_failing_auction_does_not_hold_back_the_batch(sessions: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch with a bad auction rolls back and is retried one auction per transaction: the others close."""
    async with sessions() as s, s.begin():
        (seller_id,) = await quick_users(s, 1, 0, prefix="batchfail")
        seller = await s.get(User, seller_id)
        lids = [(await make_listing(s, seller, mode="auction", ends_at=utcnow() - timedelta(seconds=1))).id
                for _ in range(5)]
    bad = lids[2]
    real_close = BidService.close

    async def close(self: BidService, listing_id: int, now: datetime, **kw: Any) -> services.CloseResult:
        if listing_id == bad:
            raise RuntimeError("broken auction")
        return await real_close(self, listing_id, now, **kw)

    real_close_many = BidService.close_many

    async def close_many(self: BidService, listings: Any, now: datetime) -> list[services.CloseResult]:
        if any(listing.id == bad for listing in listings):
            raise RuntimeError("broken auction in the batch")
        return await real_close_many(self, listings, now)

    monkeypatch.setattr(BidService, "close", close)
    monkeypatch.setattr(BidService, "close_many", close_many)
    assert await tasks.sweep_auctions(job_context(sessions, Recorder())) == 4
    async with sessions() as s:
        statuses = dict((await s.execute(select(Listing.id, Listing.status).where(Listing.id.in_(lids)))).all())
    assert statuses == {lid: "active" if lid == bad else "unsold" for lid in lids}
