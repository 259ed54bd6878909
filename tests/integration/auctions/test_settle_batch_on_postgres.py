"""The sweeper's set-based settlement (``BidService.close_many``, docs/performance.md P4) against PostgreSQL: the
same scenario built twice, closed once auction by auction with ``BidService.close`` and once by the sweeper's
batch, leaves the same rows — orders, order events, ledger entries and balances, points lots, notifications,
e-mail outbox rows, live messages — and the batch costs the same number of statements for 6 auctions as for 12."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from marketplace import jobs, migrate
from marketplace.accounts.models import User
from marketplace.auctions import tasks
from marketplace.auctions.services import BidService
from marketplace.db import create_engine, drain_after_commit, session_factory, utcnow
from marketplace.listings.models import Listing
from marketplace.membership.models import PlusMembership, PointsLot
from marketplace.notifications.models import EmailOutbox, Notification
from marketplace.orders.models import Order, OrderEvent
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.models import LedgerAccount, LedgerEntry, LedgerTransaction
from tests.factories import fund, make_category, make_listing
from tests.integration.auctions.test_bidding_on_postgres import Recorder, audit, job_context

SETTINGS = Settings()
ROLES = ("seller", "seller2", "w", "plus", "r", "low")
# (seller, reserve, bids (role, max) in order): the outcome each exercises.
AUCTIONS: tuple[tuple[str, int | None, tuple[tuple[str, int], ...]], ...] = (
    ("seller", None, (("w", 500), ("r", 300))),     # sold at 305, 195 of w's hold goes back
    ("seller", None, (("w", 400), ("r", 200))),     # the same winner and seller again
    ("seller", None, (("plus", 800), ("r", 700))),  # sold to a PLUS member: points × 10
    ("seller", 900, (("low", 600), ("r", 300))),    # unsold below the reserve: low's 600 released
    ("seller", None, ()),                           # unsold without bids
    ("seller2", None, (("w", 250),)),               # sold at the start price, another seller
)


@dataclass
class Scenario:
    users: dict[str, int]
    listings: list[int]
    rec: Recorder = field(default_factory=Recorder)


@pytest.fixture
def runtime() -> Iterator[Recorder]:
    rec = Recorder()
    saved = jobs.RUNTIME.publisher, jobs.RUNTIME.queue, jobs.RUNTIME.loop
    jobs.install_runtime(rec, rec)
    yield rec
    jobs.RUNTIME.publisher, jobs.RUNTIME.queue, jobs.RUNTIME.loop = saved


async def build(sessions: async_sessionmaker[AsyncSession], tag: str, copies: int = 1) -> Scenario:
    """The users (each funded with 10,000 coins, ``plus`` a PLUS member) and the auctions of :data:`AUCTIONS`
    (``copies`` times), ended one second ago."""
    now = utcnow()
    async with sessions() as s, s.begin():
        users = [User(username=f"{tag}_{role}", email=f"{tag}_{role}@example.com", password_hash="!")
                 for role in ROLES]
        s.add_all(users)
        await s.flush()
        ids = {role: u.id for role, u in zip(ROLES, users, strict=True)}
        for role in ROLES:
            await fund(s, ids[role], 10_000)
        s.add(PlusMembership(user_id=ids["plus"], until=now + timedelta(days=30)))
        category = await make_category(s)
        listings = []
        for copy in range(copies):
            for i, (seller, reserve, _) in enumerate(AUCTIONS):
                listing = await make_listing(s, users[ROLES.index(seller)], category, mode="auction",
                                             title=f"Lot {copy}.{i}", start_price=100, reserve_price=reserve)
                listings.append(listing.id)
    for copy in range(copies):
        for i, (_, _, bids) in enumerate(AUCTIONS):
            for role, amount in bids:
                async with sessions() as s, s.begin():
                    await BidService(s, SETTINGS).place_bid(listings[copy * len(AUCTIONS) + i], ids[role], amount,
                                                            utcnow())
    async with sessions() as s, s.begin():
        await s.execute(update(Listing).where(Listing.id.in_(listings)).values(ends_at=utcnow() - timedelta(seconds=1)))
    await drain_after_commit()
    return Scenario(ids, listings)


async def snapshot(sessions: async_sessionmaker[AsyncSession], sc: Scenario, published: list[Any]) -> dict[str, Any]:
    """Everything the closes wrote for one scenario, with ids replaced by roles and auction indexes."""
    role = {uid: r for r, uid in sc.users.items()}
    lot = {lid: i for i, lid in enumerate(sc.listings)}
    async with sessions() as s:
        orders = list(await s.scalars(select(Order).where(Order.listing_id.in_(sc.listings))))
        by_order = {o.id: lot[o.listing_id] for o in orders}

        def norm(text: Any) -> Any:
            if not isinstance(text, str):
                return text
            text = re.sub(r"/orders/(\d+)", lambda m: f"/orders/L{by_order[int(m[1])]}", text)
            text = re.sub(r"/listings/(\d+)", lambda m: f"/listings/L{lot[int(m[1])]}", text)
            text = re.sub(r"order (\d+)", lambda m: f"order L{by_order[int(m[1])]}", text)
            text = re.sub(r"auction (\d+)", lambda m: f"auction L{lot[int(m[1])]}", text)
            text = re.sub(r"close:(\d+)", lambda m: f"close:L{lot[int(m[1])]}", text)
            return re.sub(r"points:order:(\d+)", lambda m: f"points:order:L{by_order[int(m[1])]}", text)

        def account(a: LedgerAccount) -> str:
            if a.user_id is not None:
                return f"{role.get(a.user_id, 'other')}:{a.kind}"
            if a.order_id is not None:
                return f"L{by_order[a.order_id]}:{a.kind}"
            return a.kind

        order_rows = sorted(
            (lot[o.listing_id], role[o.buyer_id], role[o.seller_id], o.quantity, o.unit_price, o.total, o.fee, o.status,
             o.items_total, o.shipping_fee, o.points_used, o.platform_paid, repr(o.discounts), o.source,
             o.shipping_address)
            for o in orders)
        order_events = sorted(
            (by_order[e.order_id], role[e.actor_id], e.from_status, e.to_status, e.note)
            for e in await s.scalars(select(OrderEvent).where(OrderEvent.order_id.in_(by_order))))
        accounts = {a.id: a for a in await s.scalars(select(LedgerAccount).where(
            (LedgerAccount.user_id.in_(role)) | (LedgerAccount.order_id.in_(by_order))))}
        platform = {a.id: a for a in await s.scalars(select(LedgerAccount).where(LedgerAccount.user_id.is_(None),
                                                                               LedgerAccount.order_id.is_(None)))}
        txns = list(await s.scalars(select(LedgerTransaction).where(
            LedgerTransaction.kind.in_(("auction_settlement", "release", "points_earn")),
            ((LedgerTransaction.ref_type == "order") & LedgerTransaction.ref_id.in_(by_order))
            | ((LedgerTransaction.ref_type == "listing") & LedgerTransaction.ref_id.in_(lot)))))
        entries: dict[int, list[LedgerEntry]] = {t.id: [] for t in txns}
        for e in await s.scalars(select(LedgerEntry).where(LedgerEntry.transaction_id.in_(entries))
                                 .order_by(LedgerEntry.id)):
            entries[e.transaction_id].append(e)
        ref = {"order": by_order, "listing": lot}
        transactions = sorted(
            (t.kind, t.ref_type, ref[t.ref_type or ""][t.ref_id or 0], norm(t.idempotency_key), norm(t.memo),
             tuple(sorted((account({**accounts, **platform}[e.account_id]), e.amount) for e in entries[t.id])))
            for t in txns)
        balances = sorted((account(a), a.balance) for a in accounts.values())
        lots = sorted((role[p.user_id], p.source, by_order[p.order_id or 0], p.points, p.remaining, p.expired,
                       p.state) for p in await s.scalars(select(PointsLot).where(PointsLot.user_id.in_(role))))
        notes = list(await s.scalars(select(Notification).where(Notification.user_id.in_(role))
                                     .order_by(Notification.id)))
        note_rows = sorted((role[n.user_id], n.kind, n.title, norm(n.body), norm(n.url), norm(repr(n.params)),
                            norm(n.dedupe_key), n.read_at) for n in notes)
        which = {n.id: (role[n.user_id], n.kind, norm(n.url)) for n in notes}
        outbox = sorted((which[o.notification_id], o.to_address.split("_", 1)[1], o.subject, norm(o.body), o.status,
                         o.attempts)
                        for o in await s.scalars(select(EmailOutbox).where(EmailOutbox.notification_id.in_(which))))
        listings = sorted((lot[li.id], li.status, li.current_price, role.get(li.leader_id or 0), li.leader_max,
                           li.quantity_available, li.version, li.ended_at is not None)
                          for li in await s.scalars(select(Listing).where(Listing.id.in_(sc.listings))))
    live = Counter((role[int(ch.split(":")[1])], m["kind"], m["title"], norm(m["url"]), m["unread"])
                   for ch, m in published if ch.startswith("user:") and int(ch.split(":")[1]) in role)
    closed = sorted((ch.split(":")[-1] and lot[int(ch.split(":")[-1])], m["status"], m["final_price"],
                     role.get(m["leader_id"]), m["version"])
                    for ch, m in sc.rec.published if m["type"] == "closed")
    return {"orders": order_rows, "order_events": order_events, "transactions": transactions,
            "balances": balances, "lots": lots, "notifications": note_rows, "outbox": outbox,
            "listings": listings, "live": live, "closed": closed}


async def test_close_many_leaves_the_same_rows_as_closing_one_by_one(
        sessions: async_sessionmaker[AsyncSession], runtime: Recorder) -> None:
    await _equivalence(sessions, runtime)


async def test_close_many_is_equivalent_on_sqlite_too(tmp_path: Path, runtime: Recorder) -> None:
    """The default development database: one closer, the same INSERT … ON CONFLICT … RETURNING executemany."""
    url = f"sqlite+aiosqlite:///{tmp_path}/settle.db"
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    try:
        await _equivalence(session_factory(engine), runtime)
    finally:
        await engine.dispose()


async def _equivalence(sessions: async_sessionmaker[AsyncSession], runtime: Recorder) -> None:
    one = await build(sessions, "one")
    async with sessions() as s:  # the sweeper's order: by leader, then id (the unread counts depend on it)
        leaders = dict((await s.execute(select(Listing.id, Listing.leader_id)
                                        .where(Listing.id.in_(one.listings)))).tuples().all())
    for lid in sorted(one.listings, key=lambda i: (leaders[i] or 0, i)):  # a transaction each, as close_auction
        assert await tasks.close_auction(job_context(sessions, one.rec), lid) == "closed"
    await drain_after_commit()
    one_published = list(runtime.published)
    runtime.published.clear()

    many = await build(sessions, "many")
    calls: list[int] = []
    real = BidService.close_many

    async def spy(self: BidService, listings: Any, now: Any) -> Any:
        results = await real(self, listings, now)
        calls.append(len(listings))  # settled by the batch, not by the one-by-one fallback after a failure
        return results

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(BidService, "close_many", spy)
        assert await tasks.sweep_auctions(job_context(sessions, many.rec)) == len(AUCTIONS)
    await drain_after_commit()
    assert calls == [len(AUCTIONS)]  # one batch settled them all

    a = await snapshot(sessions, one, one_published)
    b = await snapshot(sessions, many, runtime.published)
    for key in ("orders", "order_events", "lots", "notifications", "outbox", "live", "closed"):
        assert a[key], key  # the scenario exercises every table
    assert {t[0] for t in a["transactions"]} == {"auction_settlement", "release", "points_earn"}
    assert [lot[3] for lot in a["lots"] if lot[0] == "plus"] == [710]  # 705 coins = 70.5 yuan → 71 points, × 10
    for key in a:
        assert b[key] == a[key], key
    async with sessions() as s:
        await audit(s)


async def test_the_batch_costs_a_constant_number_of_statements(
        sessions: async_sessionmaker[AsyncSession], pg_engine: AsyncEngine, runtime: Recorder) -> None:
    async with sessions() as s, s.begin():  # created once ever: not a cost of every batch
        await ledger.ensure_accounts(s, [ledger.platform("points_issued")])
    counts = []
    for copies in (1, 2):
        sc = await build(sessions, f"n{copies}", copies)
        async with sessions() as s, s.begin():
            listings = list(await s.scalars(select(Listing).where(Listing.id.in_(sc.listings)).order_by(Listing.id)
                                            .with_for_update().execution_options(populate_existing=True)))
            statements: list[str] = []

            def count(conn: Any, cursor: Any, statement: str, *args: Any, seen: list[str] = statements) -> None:
                seen.append(statement)

            event.listen(pg_engine.sync_engine, "before_cursor_execute", count)
            try:
                results = await BidService(s, SETTINGS).close_many(listings, utcnow())
            finally:
                event.remove(pg_engine.sync_engine, "before_cursor_execute", count)
        assert sum(r.closed for r in results) == len(AUCTIONS) * copies
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 32, counts  # against ~30 per auction closed one by one
