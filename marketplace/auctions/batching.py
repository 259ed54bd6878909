"""Batched bidding on a hot auction (issue 17 P1, docs/decisions.md Auctions #18).

One process used to run one transaction per bid, and every bid on a hot auction queued on the listing row: the
row lock was held for 7 statements + commit, each resumed by a busy event loop. The :class:`BidBatcher` queues the
bids of one process per auction instead. While a batch is in flight the next bids wait in memory; when it has
committed, the next batch takes every waiting bid at once and runs **one** transaction for them:

1. claim the idempotency keys (as :func:`marketplace.idempotency.run_once` does; a replay answers the stored
   response and changes nothing), run the checks that need no lock once for the batch (listing tradable, bidders
   not blocked: one query each), make sure every bidder has ledger accounts;
2. lock the listing row, then the available/held accounts of every bidder and of the current leader, in id order
   (the global lock order: listing first, then accounts ascending, as every other path);
3. apply the bids **in arrival order, in memory, with the pure rules** (:func:`rules.place_bid`), each on the state
   the previous one left and with the available balance the previous holds and releases left: a refused bid
   changes nothing (its key claim is dropped), an accepted one gets its own ledger transaction (hold for the new
   leader, release of the outbid leader's hold), its own bid row, its own ``LeadLost`` event, its own live
   message and close re-scheduling, and its own response body;
4. write the ledger transactions, entries, balances, bid rows and the row with one statement per table, commit.

Each bidder gets their individual answer (201 body or refusal) only after the commit. The result is the one a
serial application of the same bids in the same order gives, which is what the row lock gave before (bids
arriving at the same time were already applied in lock-queue order). If a batch fails for an unexpected reason
(it should not: every refusal is decided in memory under the locks), its bids are re-run one per transaction
through :meth:`BidService.place_bid`, so one bad bid cannot take the others with it.

Bids across processes still queue on the row lock, batch against batch.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import events, idempotency
from marketplace.auctions import events as auction_events
from marketplace.auctions import rules
from marketplace.auctions.exceptions import AuctionNotFound
from marketplace.auctions.models import Bid
from marketplace.auctions.scheduling import schedule_close
from marketplace.auctions.schemas import BidPlaced, bid_message, channel_name, state_of
from marketplace.auctions.services import BidService, _hold_legs, _refusal_error, blocked_error, lock_auction
from marketplace.db import after_commit
from marketplace.errors import DomainError
from marketplace.jobs import JobQueue, Publisher
from marketplace.listings.services import ensure_tradable
from marketplace.membership import services as membership
from marketplace.orders import rules as order_rules
from marketplace.orders.services import buyer_strike_times
from marketplace.settings import Settings
from marketplace.wallet import ledger

log = logging.getLogger(__name__)

MAX_BATCH = 64


def bid_endpoint(listing_id: int) -> str:
    """The idempotency endpoint of a bid (the same as the unbatched API used)."""
    return f"bid:{listing_id}"


@dataclass(slots=True)
class BidRequest:
    listing_id: int
    bidder_id: int
    amount: int
    now: datetime
    key: str | None
    future: asyncio.Future[idempotency.Stored] = field(repr=False)


@dataclass(slots=True)
class _Accepted:
    request: BidRequest
    outcome: rules.BidOutcome
    before: rules.AuctionState
    version: int
    body: dict[str, Any]
    message: dict[str, Any]


class BidBatcher:
    """Per-process queue of bids per auction; :meth:`submit` answers one bid after its batch committed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, *,
                 publisher: Publisher | None = None, jobs: JobQueue | None = None,
                 max_batch: int = MAX_BATCH) -> None:
        self.sessions = sessions
        self.settings = settings
        self.publisher = publisher
        self.jobs = jobs
        self.max_batch = max_batch
        self._waiting: dict[int, list[BidRequest]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.batches = 0  # statistics for the benchmark and tests
        self.largest_batch = 0

    async def submit(self, listing_id: int, bidder_id: int, amount: int, now: datetime,
                     key: str | None = None) -> idempotency.Stored:
        """Queue one bid; returns (201, the BidPlaced body) once committed, or raises the refusal
        (a ``DomainError``) once the batch it was decided in committed."""
        future: asyncio.Future[idempotency.Stored] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(listing_id, []).append(
            BidRequest(listing_id, bidder_id, amount, now, key, future))
        if listing_id not in self._tasks:
            self._tasks[listing_id] = asyncio.create_task(self._drain(listing_id))
        return await future

    async def _drain(self, listing_id: int) -> None:
        try:
            while waiting := self._waiting.pop(listing_id, None):
                batch, later = _take(waiting, self.max_batch)
                if later:
                    self._waiting[listing_id] = later + self._waiting.get(listing_id, [])
                batch = [r for r in batch if not r.future.done()]  # a caller that gave up (disconnected)
                if batch:
                    await self._run(listing_id, batch)
        finally:
            self._tasks.pop(listing_id, None)

    async def _run(self, listing_id: int, batch: list[BidRequest]) -> None:
        try:
            answers = await self._apply(listing_id, batch)
        except Exception:
            log.exception("bid batch on listing %s failed; re-running its %d bids one by one", listing_id, len(batch))
            for request in batch:
                await self._one(request)
            return
        self.batches += 1
        self.largest_batch = max(self.largest_batch, len(batch))
        for request, answer in zip(batch, answers, strict=True):
            if request.future.done():
                continue
            if isinstance(answer, BaseException):
                request.future.set_exception(answer)
            else:
                request.future.set_result(answer)

    async def _one(self, request: BidRequest) -> None:
        """The unbatched path: one bid, one transaction (the fallback of a failed batch)."""
        try:
            async with self.sessions() as session, session.begin():
                service = BidService(session, self.settings, publisher=self.publisher, jobs=self.jobs)

                async def work() -> tuple[int, dict[str, Any]]:
                    result = await service.place_bid(request.listing_id, request.bidder_id, request.amount,
                                                     request.now)
                    return 201, msgspec.to_builtins(BidPlaced.of(result.listing, request.bidder_id))

                stored, _ = await idempotency.run_once(session, user_id=request.bidder_id,
                                                       endpoint=bid_endpoint(request.listing_id), key=request.key,
                                                       work=work)
        except Exception as exc:  # the bidder's own answer: a refusal (4xx) or the unexpected error (500)
            if not request.future.done():
                request.future.set_exception(exc)
            return
        if not request.future.done():
            request.future.set_result(stored)

    async def _apply(self, listing_id: int,
                     batch: list[BidRequest]) -> list[idempotency.Stored | DomainError]:
        answers: list[idempotency.Stored | DomainError | None] = [None] * len(batch)
        async with self.sessions() as session, session.begin():
            # 1. Outside the row lock: idempotency claims (a replay changes nothing) and the bidders' accounts.
            records: dict[int, idempotency.IdempotencyRecord] = {}
            for i, request in enumerate(batch):
                if request.key is not None:
                    claimed = await idempotency.claim(session, user_id=request.bidder_id,
                                                      endpoint=bid_endpoint(listing_id), key=request.key)
                    if isinstance(claimed, idempotency.Stored):
                        answers[i] = claimed
                    else:
                        records[i] = claimed
            pending = [i for i in range(len(batch)) if answers[i] is None]
            # The checks that need no lock (BidService.admit), once for the batch: the listing is tradable (else
            # 404 for every bid), the bidder is not blocked (docs/rules.md §19.1).
            refusals: dict[int, DomainError] = {}
            if pending:
                try:
                    await ensure_tradable(session, listing_id)
                except DomainError as exc:
                    refusals = dict.fromkeys(pending, exc)
                else:
                    strikes = await buyer_strike_times(session, {batch[i].bidder_id for i in pending})
                    for i in pending:
                        until = order_rules.bidding_blocked_until(strikes[batch[i].bidder_id], batch[i].now)
                        if until is not None:
                            refusals[i] = blocked_error(until)
            for i, refusal in refusals.items():
                answers[i] = refusal
                if i in records:
                    await session.delete(records[i])
            pending = [i for i in pending if i not in refusals]
            bidders = {batch[i].bidder_id for i in pending}
            if bidders:
                await ledger.ensure_accounts(
                    session, [k for u in sorted(bidders) for k in (ledger.available(u), ledger.held(u))])
            # 2. The row, then every account whose balance a bid of this batch can move, in id order.
            listing = await lock_auction(session, listing_id)
            if listing is None or listing.mode != "auction":
                for i in pending:
                    answers[i] = AuctionNotFound()
                    if i in records:
                        await session.delete(records[i])
                pending = []
            accepted: list[_Accepted] = []
            if pending:
                assert listing is not None
                state = state_of(listing)
                users = bidders | ({state.leader_id} if state.leader_id is not None else set())
                accounts = await ledger.lock_user_accounts(session, users)
                available = {u: accounts[ledger.available(u)].balance for u in users
                             if ledger.available(u) in accounts}
                window = timedelta(seconds=self.settings.extension_window_seconds)
                extension = timedelta(seconds=self.settings.extension_seconds)
                version = listing.version
                # 3. In arrival order, in memory, by the pure rules.
                for i in pending:
                    request = batch[i]
                    outcome = rules.place_bid(state, request.bidder_id, request.amount, request.now,
                                              available=available.get(request.bidder_id, 0),
                                              extension_window=window, extension=extension)
                    if not outcome.accepted:
                        answers[i] = _refusal_error(outcome, state)
                        if i in records:
                            await session.delete(records[i])
                        continue
                    for hold in outcome.holds:
                        available[hold.user_id] = available.get(hold.user_id, 0) - hold.amount
                    version += 1
                    _write_state(listing, outcome.state, version)
                    body = msgspec.to_builtins(BidPlaced.of(listing, request.bidder_id))
                    accepted.append(_Accepted(request, outcome, state, version, body, bid_message(listing)))
                    answers[i] = idempotency.Stored(201, body)
                    if i in records:
                        records[i].status_code, records[i].response = 201, body
                    state = outcome.state
                # 4. One statement per table.
                await ledger.post_locked(session, [
                    ledger.Posting(kind="hold" if any(h.amount > 0 for h in a.outcome.holds) else "release",
                                   legs=_hold_legs(a.outcome.holds), ref_type="listing", ref_id=listing_id,
                                   memo=f"bid on listing {listing_id}")
                    for a in accepted if a.outcome.holds], accounts)
                session.add_all(Bid(listing_id=listing_id, bidder_id=a.request.bidder_id,
                                    max_amount=a.request.amount, price_after=a.outcome.state.current_price,
                                    leader_id_after=a.outcome.state.leader_id, created_at=a.request.now)
                                for a in accepted)
                # Active days (docs/rules.md §16) of the bidders whose bids were accepted, one statement.
                await membership.record_activities(session, [(a.request.bidder_id, a.request.now) for a in accepted])
            await session.flush()
            lost = tuple(auction_events.LeadLost(listing_id, a.before.leader_id, a.request.bidder_id,
                                                 a.outcome.state.current_price)
                         for a in accepted
                         if a.before.leader_id is not None and a.outcome.state.leader_id != a.before.leader_id)
            if lost:  # one LeadLost per bid that took the lead, in order, in one event (one INSERT per table)
                await events.emit(session, auction_events.LeadsLost(lost))
            if accepted:
                self._announce(session, listing_id, accepted)
        assert all(a is not None for a in answers)
        return [a for a in answers if a is not None]

    def _announce(self, session: AsyncSession, listing_id: int, accepted: list[_Accepted]) -> None:
        """After the commit, as the unbatched path did per bid: each accepted bid's live message, in order, and
        a close job for each extended end."""
        publisher, jobs = self.publisher, self.jobs
        channel = channel_name(listing_id)
        if publisher is not None:
            messages = [a.message for a in accepted]

            async def publish() -> None:
                for message in messages:
                    await publisher.publish(channel, message)

            after_commit(session, publish)
        ends = [a.outcome.state.ends_at for a in accepted if a.outcome.extended]
        if jobs is not None and ends:
            async def enqueue() -> None:
                for ends_at in ends:
                    await schedule_close(jobs, listing_id, ends_at)

            after_commit(session, enqueue)


def _take(waiting: list[BidRequest], limit: int) -> tuple[list[BidRequest], list[BidRequest]]:
    """The next batch: up to ``limit`` bids in arrival order, stopping before a second bid with an idempotency
    key already in the batch (it must see the first one's committed answer, as a concurrent retry always did)."""
    batch: list[BidRequest] = []
    keys: set[tuple[int, str]] = set()
    for n, request in enumerate(waiting):
        if len(batch) >= limit:
            return batch, waiting[n:]
        if request.key is not None:
            if (request.bidder_id, request.key) in keys:
                return batch, waiting[n:]
            keys.add((request.bidder_id, request.key))
        batch.append(request)
    return batch, []


def _write_state(listing: Any, new: rules.AuctionState, version: int) -> None:
    listing.current_price = new.current_price
    listing.leader_id = new.leader_id
    listing.leader_max = new.leader_max
    listing.runner_up_max = new.runner_up_max
    listing.bid_count = new.bid_count
    listing.ends_at = new.ends_at
    listing.version = version
