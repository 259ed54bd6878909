"""Closing auctions exactly once (docs/architecture.md, §9).

Two mechanisms, both idempotent because the close itself is a conditional transition under the row lock
(``BidService.close``):

* ``close_auction`` is enqueued per auction with ``defer_until=ends_at`` and the job id
  ``close:{id}:{ends_at timestamp}``. An extension enqueues a new job under the new end's id; the old job wakes
  at the old end, finds the end moved and re-defers (arq refuses the duplicate id, so at most one waits per end).
* ``sweep_auctions`` runs every 5 seconds and closes any overdue auction a job missed (worker died, the listing
  was created without scheduling, an arq result key blocked an id).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from marketplace.auctions import second_chance
from marketplace.auctions.scheduling import schedule_close
from marketplace.auctions.schemas import channel_name, closed_message
from marketplace.auctions.services import BidService, CloseResult
from marketplace.jobs import JobContext, job, periodic
from marketplace.listings.models import Listing

log = logging.getLogger(__name__)

SWEEP_BATCH = 100
# A timer may fire a hair before ends_at (event-loop clock vs wall clock); closer than this we wait in place
# instead of re-queueing under the job id that is still running.
_NEAR = timedelta(seconds=2)


async def _close_once(ctx: JobContext, listing_id: int, *, skip_locked: bool = False) -> CloseResult:
    async with ctx.session_factory() as session, session.begin():
        result = await BidService(session, ctx.settings).close(listing_id, ctx.now(), skip_locked=skip_locked)
    if result.closed and result.listing is not None:
        await ctx.publisher.publish(channel_name(listing_id), closed_message(result.listing))
    return result


@job
async def close_auction(ctx: JobContext, listing_id: int) -> str:
    result = await _close_once(ctx, listing_id)
    if result.reschedule_at is not None:
        remaining = result.reschedule_at - ctx.now()
        if remaining <= _NEAR:
            await asyncio.sleep(max(remaining.total_seconds(), 0) + 0.05)
            result = await _close_once(ctx, listing_id)
    if result.reschedule_at is not None:
        await schedule_close(ctx.queue, listing_id, result.reschedule_at)
        return "rescheduled"
    return "closed" if result.closed else "noop"


SWEEP_EVERY = timedelta(seconds=5)
# Parallel closers per sweep on PostgreSQL (each holds one pooled connection; the pool has 10). SQLite has one
# writer, so it closes one at a time. A batch is bound by its Python work, not by the database (docs/performance.md
# P4): two closers per worker keep one computing while the other waits on PostgreSQL; more only wait on each other's
# account locks.
SWEEP_CONCURRENCY = 2
# Due auctions one closer claims and settles per transaction (see _claim_and_close): the batch costs ~30
# statements whatever its size, so larger batches cost fewer statements per auction.
SWEEP_CLAIM = 100


async def _close_claimed(ctx: JobContext, ids: list[int]) -> list[CloseResult]:
    """Close already-claimed auctions in the caller's order, in one transaction, then announce them."""
    results: list[CloseResult] = []
    async with ctx.session_factory() as session, session.begin():
        service = BidService(session, ctx.settings)
        # Each close re-locks its row (already ours when claimed in this transaction) and re-checks the status.
        results = [await service.close(listing_id, ctx.now()) for listing_id in ids]
    for listing_id, result in zip(ids, results, strict=True):
        if result.closed and result.listing is not None:
            await ctx.publisher.publish(channel_name(listing_id), closed_message(result.listing))
    return results


async def _claim_and_close(ctx: JobContext, now: datetime, failed: set[int]) -> int | None:
    """Claim up to :data:`SWEEP_CLAIM` due auctions and close them, in one transaction; the number closed, or None
    when nothing due is left to claim.

    ``FOR UPDATE SKIP LOCKED`` hands every concurrent closer (another task of this sweep, another worker's sweep)
    different rows and passes over rows a bid or a close job holds; ``BidService.close_many`` re-checks the status
    of the rows this claim locked and re-read, so each auction settles once. The batch is settled with a constant
    number of statements (docs/performance.md P4): the same rows as one ``BidService.close`` per auction, all
    committed together or none. It takes every ledger account lock it needs in one statement, in ascending id
    order, so two batches cannot deadlock. If the batch fails, it is rolled back and its auctions are closed one
    per transaction, so one bad auction is logged and skipped without holding back the others."""
    claimed: list[int] = []
    results: list[CloseResult] = []
    try:
        async with ctx.session_factory() as session, session.begin():
            stmt = (select(Listing)
                    .where(Listing.mode == "auction", Listing.status == "active", Listing.ends_at <= now)
                    .order_by(Listing.ends_at, Listing.id).limit(SWEEP_CLAIM).with_for_update(skip_locked=True)
                    .execution_options(populate_existing=True))
            if failed:
                stmt = stmt.where(Listing.id.not_in(failed))
            listings = sorted((await session.scalars(stmt)).all(), key=lambda row: (row.leader_id or 0, row.id))
            if not listings:
                return None
            claimed = [listing.id for listing in listings]
            results = await BidService(session, ctx.settings).close_many(listings, ctx.now())
    except Exception:
        if not claimed:
            raise
        log.warning("sweeper batch of %d auctions failed; closing them one by one", len(claimed), exc_info=True)
        results = []  # rolled back: settle the claimed auctions one by one below
    if results:
        for listing_id, result in zip(claimed, results, strict=True):
            if not result.closed:
                failed.add(listing_id)  # cannot happen for a row claimed as due; never claim it again
            elif result.listing is not None:
                await ctx.publisher.publish(channel_name(listing_id), closed_message(result.listing))
        return sum(r.closed for r in results)
    closed = 0
    for listing_id in claimed:
        try:
            (result,) = await _close_claimed(ctx, [listing_id])
        except Exception:  # one bad auction must not stop the sweep of the others (its transaction rolled back)
            log.exception("sweeper could not close auction %s", listing_id)
            failed.add(listing_id)
            continue
        if not result.closed:
            failed.add(listing_id)
        closed += result.closed
    return closed


@periodic(every=SWEEP_EVERY)
async def sweep_auctions(ctx: JobContext) -> int:
    """Close every overdue auction, each in its own transaction, with :data:`SWEEP_CONCURRENCY` closers claiming
    rows by ``SKIP LOCKED`` (docs/performance.md, P4). Rows locked by someone else (a bid, a close job, another
    worker's sweep) are skipped: that holder finishes first and a later claim or sweep sees the result. Two
    workers sweeping at once therefore share the work instead of queueing on the same rows.

    It also schedules the close job of every auction ending before the next sweep, so an auction created
    without ``schedule_close`` (or whose job was lost) still closes on the second, not up to 5 s late. The job
    id makes this idempotent."""
    now = ctx.now()
    async with ctx.session_factory() as session:
        upcoming = (await session.execute(
            select(Listing.id, Listing.ends_at)
            .where(Listing.mode == "auction", Listing.status == "active", Listing.ends_at > now,
                   Listing.ends_at <= now + 2 * SWEEP_EVERY)
            .limit(SWEEP_BATCH)
        )).all()
        sqlite = session.bind.dialect.name == "sqlite"
    for listing_id, ends_at in upcoming:
        await schedule_close(ctx.queue, listing_id, ends_at)
    failed: set[int] = set()

    async def closer() -> int:
        closed = 0
        while (count := await _claim_and_close(ctx, now, failed)) is not None:
            closed += count
        return closed

    return sum(await asyncio.gather(*(closer() for _ in range(1 if sqlite else SWEEP_CONCURRENCY))))


@periodic(every=timedelta(minutes=10))
async def expire_second_chance_offers(ctx: JobContext) -> int:
    """Second-chance offers older than 48 hours expire (docs/rules.md §19.2); the seller may then relist."""
    async with ctx.session_factory() as session, session.begin():
        return await second_chance.expire_due(session, ctx.now())
