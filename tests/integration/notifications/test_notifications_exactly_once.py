"""Notifications on PostgreSQL, made in the event's own transaction: exactly once under a retried (and a
concurrent) close job, under concurrent outbids, through the order, shop and top-up transitions; ending_soon once
per listing and user; the saved-search matcher's hourly limit."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import events, jobs, wiring
from marketplace.accounts.models import User
from marketplace.auctions import tasks as auction_tasks
from marketplace.auctions.models import Bid
from marketplace.auctions.services import BidService, purchase
from marketplace.db import drain_after_commit, utcnow
from marketplace.errors import DomainError
from marketplace.listings.models import Listing
from marketplace.listings.services import ListingService
from marketplace.notifications import tasks
from marketplace.notifications.models import EmailOutbox, Notification, SavedSearch, WatchlistItem
from marketplace.notifications.services import SavedSearchService
from marketplace.orders.services import FeedbackService, OrderService
from marketplace.settings import Settings
from marketplace.shops.services import ShopService
from marketplace.wallet.events import TopUpPaid
from tests.factories import fund, make_category, make_listing, make_user, quick_user

S = Settings()


class Recorder:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.enqueued: list[tuple[str, tuple[Any, ...]]] = []

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self.published.append((channel, message))

    async def enqueue(self, name: str, *args: Any, **kw: Any) -> None:
        self.enqueued.append((name, args))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    wiring.subscribe_all()
    rec = Recorder()
    saved = jobs.RUNTIME.publisher, jobs.RUNTIME.queue, jobs.RUNTIME.loop
    jobs.install_runtime(rec, rec)
    yield rec
    jobs.RUNTIME.publisher, jobs.RUNTIME.queue, jobs.RUNTIME.loop = saved


def ctx(sessions: async_sessionmaker[AsyncSession], rec: Recorder, now: Any = None,
        settings: Settings = S) -> jobs.JobContext:
    return jobs.JobContext(settings=settings, session_factory=sessions, queue=rec, publisher=rec,
                           now=(lambda: now) if now else utcnow)


async def kinds(sessions: async_sessionmaker[AsyncSession], user_id: int | None = None) -> Counter[tuple[int, str]]:
    async with sessions() as s:
        q = select(Notification.user_id, Notification.kind)
        if user_id is not None:
            q = q.where(Notification.user_id == user_id)
        return Counter((int(u), k) for u, k in (await s.execute(q)).all())


async def users(sessions: async_sessionmaker[AsyncSession], n: int, coins: int = 10_000) -> list[int]:
    async with sessions() as s, s.begin():
        ids = []
        for _ in range(n):
            u = await quick_user(s)
            await fund(s, u.id, coins)
            ids.append(u.id)
        return ids


async def auction(sessions: async_sessionmaker[AsyncSession], seller_id: int, **kw: Any) -> int:
    async with sessions() as s, s.begin():
        seller = await s.get(User, seller_id)
        return int((await make_listing(s, seller, mode="auction", **kw)).id)


async def bid(sessions: async_sessionmaker[AsyncSession], listing_id: int, user_id: int, amount: int) -> None:
    async with sessions() as s, s.begin():
        await BidService(s, S).place_bid(listing_id, user_id, amount, utcnow())


# --- outbid ------------------------------------------------------------------------------------------------------


async def test_outbid_once_per_lead_lost_not_per_proxy_step(sessions: Any, recorder: Recorder) -> None:
    seller, a, b, c = await users(sessions, 4)
    lid = await auction(sessions, seller, start_price=10)
    await bid(sessions, lid, a, 100)   # a leads
    await bid(sessions, lid, b, 50)    # proxy step: a still leads, price moves → nobody outbid
    assert await kinds(sessions) == Counter()
    await bid(sessions, lid, b, 200)   # b takes the lead → a outbid once
    await bid(sessions, lid, c, 150)   # proxy step for b → nothing
    await bid(sessions, lid, b, 300)   # the leader raising → nothing
    await bid(sessions, lid, a, 400)   # a takes it back → b outbid once
    assert await kinds(sessions) == Counter({(a, "outbid"): 1, (b, "outbid"): 1})
    await drain_after_commit()
    live = [m for ch, m in recorder.published if ch == f"user:{a}"]
    assert len(live) == 1
    assert live[0]["type"] == "notification"
    assert live[0]["kind"] == "outbid"
    assert live[0]["unread"] == 1
    assert live[0]["url"] == f"/listings/{lid}"
    # each notification queued its e-mail (outbox row in the same transaction, job after commit)
    assert sum(1 for name, _ in recorder.enqueued if name == "send_email") == 2


async def test_two_concurrent_outbids_notify_each_lead_lost_once(sessions: Any, recorder: Recorder) -> None:
    seller, a, *others = await users(sessions, 8)
    lid = await auction(sessions, seller, start_price=10)
    await bid(sessions, lid, a, 100)

    async def try_bid(uid: int, amount: int) -> None:
        with contextlib.suppress(DomainError):
            await bid(sessions, lid, uid, amount)

    await asyncio.gather(*(try_bid(uid, 200 + 10 * i) for i, uid in enumerate(others)))
    async with sessions() as s:
        rows = (await s.execute(select(Bid.leader_id_after).where(Bid.listing_id == lid).order_by(Bid.id))).all()
    leaders = [r[0] for r in rows]
    lost = Counter(prev for prev, nxt in itertools.pairwise(leaders) if prev != nxt)
    got = await kinds(sessions)
    assert got[(a, "outbid")] == 1
    assert got == Counter({(uid, "outbid"): n for uid, n in lost.items()})


# --- close -------------------------------------------------------------------------------------------------------


async def test_retried_and_concurrent_close_job_notifies_once(sessions: Any, recorder: Recorder) -> None:
    seller, a, b, watcher = await users(sessions, 4)
    lid = await auction(sessions, seller, start_price=10)
    await bid(sessions, lid, a, 100)
    await bid(sessions, lid, b, 60)
    async with sessions() as s, s.begin():
        await s.execute(update(Listing).where(Listing.id == lid).values(ends_at=utcnow() - timedelta(seconds=1)))
        s.add(WatchlistItem(user_id=watcher, listing_id=lid))
    c = ctx(sessions, recorder)
    results = await asyncio.gather(*(auction_tasks.close_auction(c, lid) for _ in range(3)))
    assert sorted(results) == ["closed", "noop", "noop"]
    assert await auction_tasks.close_auction(c, lid) == "noop"  # arq retrying the job later
    assert await auction_tasks.sweep_auctions(c) == 0
    assert await kinds(sessions) == Counter({(seller, "sold"): 1, (a, "won"): 1, (b, "lost"): 1})


async def test_unsold_close_tells_every_bidder_lost(sessions: Any, recorder: Recorder) -> None:
    seller, a, b = await users(sessions, 3)
    lid = await auction(sessions, seller, start_price=10, reserve_price=5000)
    await bid(sessions, lid, a, 100)
    await bid(sessions, lid, b, 200)
    async with sessions() as s, s.begin():
        await s.execute(update(Listing).where(Listing.id == lid).values(ends_at=utcnow() - timedelta(seconds=1)))
    assert await auction_tasks.close_auction(ctx(sessions, recorder), lid) == "closed"
    got = await kinds(sessions)
    assert got == Counter({(seller, "unsold"): 1, (a, "lost"): 1, (b, "lost"): 1, (a, "outbid"): 1})


async def test_no_bids_close_tells_only_the_seller(sessions: Any, recorder: Recorder) -> None:
    (seller,) = await users(sessions, 1)
    lid = await auction(sessions, seller, ends_at=utcnow() - timedelta(seconds=1))
    assert await auction_tasks.close_auction(ctx(sessions, recorder), lid) == "closed"
    assert await kinds(sessions) == Counter({(seller, "unsold"): 1})


# --- sales and orders --------------------------------------------------------------------------------------------


async def test_fixed_price_purchase_and_buy_now_tell_the_seller(sessions: Any, recorder: Recorder) -> None:
    seller, buyer = await users(sessions, 2)
    async with sessions() as s, s.begin():
        seller_row = await s.get(User, seller)
        fixed = (await make_listing(s, seller_row, price=100, quantity=3)).id
        bn = (await make_listing(s, seller_row, mode="auction", buy_now_price=500)).id
    async with sessions() as s, s.begin():
        order = await purchase(s, S, fixed, buyer, 2, utcnow())
        await purchase(s, S, bn, buyer, 1, utcnow())
    got = await kinds(sessions)
    assert got == Counter({(seller, "sold"): 2})
    async with sessions() as s:
        titles = list(await s.scalars(select(Notification.url).where(Notification.user_id == seller)))
    assert f"/orders/{order.id}" in titles


async def test_order_transitions_tell_the_other_side(sessions: Any, recorder: Recorder) -> None:
    seller, buyer = await users(sessions, 2)
    async with sessions() as s, s.begin():
        listing = await make_listing(s, await s.get(User, seller), price=100, quantity=5)
        lid = listing.id
    async with sessions() as s, s.begin():
        o1 = (await purchase(s, S, lid, buyer, 1, utcnow())).id
        o2 = (await purchase(s, S, lid, buyer, 1, utcnow())).id
    before = await kinds(sessions)
    async with sessions() as s, s.begin():
        svc = OrderService(s, S)
        await svc.ship(o1, seller)
        await svc.confirm(o1, buyer)
        await svc.cancel(o2, buyer)
    async with sessions() as s, s.begin():
        await FeedbackService(s).leave(o1, buyer, "positive", "great")
    got = await kinds(sessions) - before
    # The buyer's first completed order also lifts them from `registered` to J1 (docs/rules.md §13).
    assert got == Counter({(buyer, "order_shipped"): 1, (seller, "order_completed"): 1,
                           (seller, "order_cancelled"): 1, (seller, "feedback_received"): 1,
                           (buyer, "level_changed"): 1})


async def test_dispute_and_resolution(sessions: Any, recorder: Recorder) -> None:
    seller, buyer = await users(sessions, 2)
    async with sessions() as s, s.begin():
        admin = await make_user(s, is_admin=True)
        lid = (await make_listing(s, await s.get(User, seller), price=100)).id
    async with sessions() as s, s.begin():
        oid = (await purchase(s, S, lid, buyer, 1, utcnow())).id
        await OrderService(s, S).ship(oid, seller)
        await OrderService(s, S).dispute(oid, buyer, "broken")
    async with sessions() as s, s.begin():
        await OrderService(s, S).resolve(oid, admin.id, "refund")
    got = await kinds(sessions)
    assert got[(seller, "dispute_opened")] == 1
    assert got[(buyer, "dispute_resolved")] == 1
    assert got[(seller, "dispute_resolved")] == 1


async def test_shop_renewal_events(sessions: Any, recorder: Recorder) -> None:
    from datetime import UTC, datetime

    t0 = datetime.now(UTC).replace(microsecond=0)
    async with sessions() as s, s.begin():
        rich = await make_user(s, coins=1000)
        poor = await make_user(s, coins=100)
        rich_shop = (await ShopService(s, S).open_shop(rich.id, name="Rich", plan="basic", now=t0)).id
        poor_shop = (await ShopService(s, S).open_shop(poor.id, name="Poor", plan="basic", now=t0)).id
    for when in (t0 + timedelta(days=30), t0 + timedelta(days=30)):  # the job twice: the second run does nothing
        for shop_id in (rich_shop, poor_shop):
            async with sessions() as s, s.begin():
                await ShopService(s, S).advance(shop_id, when)
    async with sessions() as s, s.begin():
        await ShopService(s, S).advance(poor_shop, t0 + timedelta(days=40))
    got = await kinds(sessions)
    assert got == Counter({(rich.id, "shop_renewed"): 1, (poor.id, "shop_renewal_failed"): 1,
                           (poor.id, "shop_suspended"): 1})


async def test_topup_paid_handler(sessions: Any, recorder: Recorder) -> None:
    (uid,) = await users(sessions, 1)
    for _ in range(2):  # a replayed event would insert nothing (dedupe key per top-up)
        async with sessions() as s, s.begin():
            await events.emit(s, TopUpPaid(7, uid, 500))
    assert await kinds(sessions) == Counter({(uid, "topup_paid"): 1})


async def test_email_setting_off_writes_no_outbox_row(sessions: Any, recorder: Recorder) -> None:
    from marketplace.notifications.services import NotificationService

    seller, a, b = await users(sessions, 3)
    async with sessions() as s, s.begin():
        await NotificationService(s).set_email_settings(a, {"outbid": False})
    lid = await auction(sessions, seller)
    await bid(sessions, lid, a, 100)
    await bid(sessions, lid, b, 200)
    assert await kinds(sessions) == Counter({(a, "outbid"): 1})
    async with sessions() as s:
        assert list(await s.scalars(select(EmailOutbox.id))) == []


# --- ending soon -------------------------------------------------------------------------------------------------


async def test_ending_soon_once_per_listing_and_user_even_after_an_extension(sessions: Any,
                                                                             recorder: Recorder) -> None:
    seller, bidder, watcher, other = await users(sessions, 4)
    now = utcnow()
    soon = await auction(sessions, seller, ends_at=now + timedelta(minutes=30))
    later = await auction(sessions, seller, ends_at=now + timedelta(hours=5))
    await bid(sessions, soon, bidder, 50)
    async with sessions() as s, s.begin():
        s.add_all([WatchlistItem(user_id=watcher, listing_id=soon), WatchlistItem(user_id=seller, listing_id=soon),
                   WatchlistItem(user_id=other, listing_id=later)])
    c = ctx(sessions, recorder, now=now)
    first, second = await asyncio.gather(tasks.ending_soon_sweep(c), tasks.ending_soon_sweep(c))
    assert first + second == 2
    async with sessions() as s, s.begin():  # extended: ends later, back inside the window at the next sweep
        await s.execute(update(Listing).where(Listing.id == soon).values(ends_at=now + timedelta(minutes=35)))
    assert await tasks.ending_soon_sweep(ctx(sessions, recorder, now=now + timedelta(minutes=1))) == 0
    assert await kinds(sessions) == Counter({(bidder, "ending_soon"): 1, (watcher, "ending_soon"): 1})
    # the other auction enters the window later: its watcher hears then, once
    c = ctx(sessions, recorder, now=now + timedelta(hours=4, minutes=1))
    assert await tasks.ending_soon_sweep(c) == 1
    assert await tasks.ending_soon_sweep(c) == 0


# --- saved searches ----------------------------------------------------------------------------------------------


async def test_saved_search_match_and_hourly_limit(sessions: Any, recorder: Recorder) -> None:
    owner, seller = await users(sessions, 2)
    async with sessions() as s, s.begin():
        cat = await make_category(s)
        old = await make_listing(s, await s.get(User, seller), cat, title="Vintage camera old")
        search = await SavedSearchService(s).create(owner, {"q": "camera", "max_price": 500})
        sid = search.id
    assert old.id <= search.last_listing_id
    now = utcnow()
    c = ctx(sessions, recorder, now=now)
    assert await tasks.match_saved_searches(c) == 0  # nothing new yet (the old listing is not "new")
    async with sessions() as s, s.begin():
        # published through the real service: the ListingPublished event asks for a match run at once
        settings = S.with_(min_auction_seconds=60)
        await fund(s, seller, 100)
        await ListingService(s, settings).create(seller, {"title": "Film camera", "description": "", "mode": "fixed",
                                                          "category_id": cat.id, "price": 300, "quantity": 1})
        sel = await s.get(User, seller)
        await make_listing(s, sel, cat, title="Digital camera", price=900)  # too expensive
        await make_listing(s, sel, cat, title="Tripod", price=100)          # other words
    await drain_after_commit()
    assert ("match_saved_searches_now", ()) in recorder.enqueued
    assert await tasks.match_saved_searches(c) == 1
    async with sessions() as s:
        n = (await s.scalars(select(Notification).where(Notification.user_id == owner))).one()
    assert n.kind == "saved_search"
    assert n.title.startswith("1 new listing")
    assert n.url == "/search?q=camera&max_price=500"
    # two more matches within the hour: counted, not notified
    async with sessions() as s, s.begin():
        sel = await s.get(User, seller)
        await make_listing(s, sel, cat, title="Camera bag camera", price=50)
        await make_listing(s, sel, cat, title="Old camera", price=60)
    assert await tasks.match_saved_searches(ctx(sessions, recorder, now=now + timedelta(minutes=30))) == 0
    async with sessions() as s:
        assert (await s.get(SavedSearch, sid)).pending == 2  # type: ignore[union-attr]
    assert await tasks.match_saved_searches(ctx(sessions, recorder, now=now + timedelta(minutes=61))) == 1
    async with sessions() as s:
        titles = list(await s.scalars(select(Notification.title).where(Notification.user_id == owner)
                                      .order_by(Notification.id)))
    assert titles[-1].startswith("2 new listings")
