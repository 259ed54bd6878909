"""Closing auctions exactly once (DESIGN.md §3, §9).

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
from sqlalchemy.sql import Select

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
# writer, so it closes one at a time.
SWEEP_CONCURRENCY = 4


def _due(now: datetime) -> Select[tuple[int]]:
    return (select(Listing.id)
            .where(Listing.mode == "auction", Listing.status == "active", Listing.ends_at <= now)
            .order_by(Listing.ends_at, Listing.id))


async def _claim_and_close(ctx: JobContext, now: datetime, failed: set[int]) -> CloseResult | None:
    """Claim one due auction and close it, in one transaction: ``FOR UPDATE SKIP LOCKED`` hands every concurrent
    closer (another task of this sweep, another worker's sweep, a bid or close job holding the row) a different
    row, and ``BidService.close`` re-checks the status under that same lock, so each auction settles once.
    None when nothing due is left to claim."""
    claimed: list[int] = []
    try:
        async with ctx.session_factory() as session, session.begin():
            stmt = _due(now).limit(1).with_for_update(skip_locked=True)
            if failed:
                stmt = stmt.where(Listing.id.not_in(failed))
            listing_id = await session.scalar(stmt)
            if listing_id is None:
                return None
            claimed.append(listing_id)
            result = await BidService(session, ctx.settings).close(listing_id, ctx.now())
    except Exception:  # one bad auction must not stop the sweep of the others (its transaction rolled back)
        if not claimed:
            raise
        log.exception("sweeper could not close auction %s", claimed[0])
        failed.add(claimed[0])
        return CloseResult(None)
    if not result.closed:
        failed.add(listing_id)  # cannot happen for a row claimed as due; never claim it again in this sweep
    elif result.listing is not None:
        await ctx.publisher.publish(channel_name(listing_id), closed_message(result.listing))
    return result


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
        while (result := await _claim_and_close(ctx, now, failed)) is not None:
            closed += result.closed
        return closed

    return sum(await asyncio.gather(*(closer() for _ in range(1 if sqlite else SWEEP_CONCURRENCY))))
