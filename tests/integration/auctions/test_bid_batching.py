"""The batched bid path (auctions/batching.py) against PostgreSQL: many concurrent bids on one auction end in the
state a serial application of the same bids gives, with an exact ledger and no double hold."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import idempotency
from marketplace.accounts.models import User
from marketplace.auctions import rules
from marketplace.auctions.batching import BidBatcher
from marketplace.auctions.models import Bid
from marketplace.auctions.schemas import state_of
from marketplace.db import drain_after_commit, utcnow
from marketplace.errors import DomainError
from marketplace.listings.models import Listing
from marketplace.notifications.models import EmailOutbox, Notification
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.models import LedgerTransaction
from tests.factories import make_listing
from tests.integration.auctions.test_bidding_on_postgres import Recorder, audit, held_by_user, quick_users

SETTINGS = Settings()


async def _auction(sessions: async_sessionmaker[AsyncSession], n: int, coins: int) -> tuple[int, list[int], Any]:
    async with sessions() as s, s.begin():
        (seller_id,) = await quick_users(s, 1, 0, prefix="seller")
        bidders = await quick_users(s, n, coins)
        seller = await s.get(User, seller_id)
        listing = await make_listing(s, seller, mode="auction", start_price=10, duration_seconds=3600)
        return listing.id, bidders, state_of(listing)


async def test_concurrent_bids_in_batches_equal_the_serial_application(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    lid, bidders, initial = await _auction(sessions, 12, 2_000)
    now = utcnow()
    # 60 bids from 12 bidders with 2,000 coins each: new leads, too-low bids, ties, leaders raising their own
    # maximum, and bids the bidder cannot cover (insufficient coins) once their coins are held elsewhere.
    plan = [(bidders[(7 * i) % 12], 10 + (i * 37) % 2_400) for i in range(60)]
    recorder = Recorder()
    batcher = BidBatcher(sessions, SETTINGS, publisher=recorder, jobs=recorder)

    async def one(bidder: int, amount: int) -> Any:
        try:
            return (await batcher.submit(lid, bidder, amount, now)).response
        except DomainError as exc:
            return type(exc)

    answers = await asyncio.gather(*(one(b, a) for b, a in plan))  # queued in this order
    await drain_after_commit()
    assert batcher.largest_batch > 1
    assert batcher.batches < len(plan)

    # The same bids, serially, through the pure rules, with each bidder's available coins.
    available = dict.fromkeys(bidders, 2_000)
    state = initial
    expected: list[Any] = []
    accepted: list[tuple[int, int, rules.AuctionState]] = []
    postings = 0
    outbid: list[int] = []
    for bidder, amount in plan:
        out = rules.place_bid(state, bidder, amount, now, available=available[bidder])
        if not out.accepted:
            expected.append(out.refusal)
            continue
        for hold in out.holds:
            available[hold.user_id] -= hold.amount
        postings += bool(out.holds)
        if state.leader_id is not None and out.state.leader_id != state.leader_id:
            outbid.append(state.leader_id)
        state = out.state
        accepted.append((bidder, amount, state))
        expected.append({"current_price": state.current_price, "you_lead": state.leader_id == bidder,
                         "bid_count": state.bid_count})
    refusal_kinds = {rules.Refusal.TOO_LOW, rules.Refusal.NOT_ABOVE_OWN_MAX, rules.Refusal.INSUFFICIENT_COINS}
    assert {e for e in expected if not isinstance(e, dict)} <= refusal_kinds
    assert rules.Refusal.INSUFFICIENT_COINS in expected  # the plan exercises the in-batch balances
    for got, want in zip(answers, expected, strict=True):
        if isinstance(want, dict):
            assert isinstance(got, dict)
            assert {k: got[k] for k in want} == want
        else:
            assert isinstance(got, type)
            assert issubclass(got, DomainError)

    async with sessions() as s:
        listing = await s.get(Listing, lid)
        assert listing is not None
        assert state_of(listing) == state
        bids = list(await s.scalars(select(Bid).where(Bid.listing_id == lid).order_by(Bid.id)))
        assert [(b.bidder_id, b.max_amount, b.price_after, b.leader_id_after) for b in bids] == [
            (b, a, st.current_price, st.leader_id) for b, a, st in accepted]
        # The ledger: exactly the leader holds exactly their maximum; every other bidder has all coins back.
        assert await held_by_user(s) == {listing.leader_id: listing.leader_max}
        for bidder in bidders:
            assert await ledger.balance(s, ledger.available(bidder)) == available[bidder]
        holds = await s.scalar(select(func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.ref_id == lid))
        assert holds == postings  # one ledger transaction per bid that moved a hold, as before
        # One "outbid" notification per lead lost (notify_many), each with its e-mail outbox row.
        notes = list(await s.scalars(select(Notification.user_id).where(Notification.kind == "outbid")
                                     .order_by(Notification.id)))
        assert notes == outbid
        assert await s.scalar(select(func.count()).select_from(EmailOutbox)) == len(outbid)
        await audit(s)
    # One live message per accepted bid, in order, each with its own state.
    assert [m["bid_count"] for _, m in recorder.published] == [st.bid_count for _, _, st in accepted]
    versions = [m["version"] for _, m in recorder.published]
    assert versions == list(range(versions[0], versions[0] + len(accepted)))


async def test_two_processes_batching_on_one_auction_keep_the_ledger_exact(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    lid, bidders, initial = await _auction(sessions, 20, 1_000_000)
    batchers = [BidBatcher(sessions, SETTINGS), BidBatcher(sessions, SETTINGS)]

    async def one(i: int, bidder: int) -> bool:
        try:
            await batchers[i % 2].submit(lid, bidder, 100 + (i * 7919) % 5_000, utcnow())
        except DomainError:
            return False
        return True

    results = await asyncio.gather(*(one(i, bidders[i % 20]) for i in range(80)))
    async with sessions() as s:
        listing = await s.get(Listing, lid)
        assert listing is not None
        bids = list(await s.scalars(select(Bid).where(Bid.listing_id == lid).order_by(Bid.id)))
        assert len(bids) == sum(results) == listing.bid_count
        state = initial
        for b in bids:  # commit (id) order through the pure rules
            out = rules.place_bid(state, b.bidder_id, b.max_amount, b.created_at, available=10**12)
            assert out.accepted, (b.id, out.refusal)
            state = out.state
            assert (b.price_after, b.leader_id_after) == (state.current_price, state.leader_id)
        assert state == state_of(listing)
        assert await held_by_user(s) == {listing.leader_id: listing.leader_max}  # no double hold
        await audit(s)


async def test_idempotent_bids_in_one_batch_place_one_bid(sessions: async_sessionmaker[AsyncSession]) -> None:
    lid, (alice, bob), _ = await _auction(sessions, 2, 10_000)
    batcher = BidBatcher(sessions, SETTINGS)
    now = utcnow()
    same = await asyncio.gather(batcher.submit(lid, alice, 500, now, "key-000001"),
                                batcher.submit(lid, alice, 500, now, "key-000001"),
                                batcher.submit(lid, bob, 400, now + timedelta(seconds=1), "key-000002"))
    assert same[0] == same[1]
    assert same[0].status_code == 201
    assert same[0].response["you_lead"] is True
    # bob's 400 is accepted but does not lead; a refused keyed bid leaves no key behind.
    assert same[2].response["you_lead"] is False
    with pytest.raises(DomainError) as refused:
        await batcher.submit(lid, bob, 1, now, "key-000003")
    assert refused.value.status_code == 409
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Bid).where(Bid.listing_id == lid)) == 2
        keys = set(await s.scalars(select(idempotency.IdempotencyRecord.key)))
        assert keys == {"key-000001", "key-000002"}
        assert await held_by_user(s) == {alice: 500}
        await audit(s)
