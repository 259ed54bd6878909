"""Membership jobs (docs/rules.md §13, §14).

* ``unfreeze_points`` runs per lot at its ``unfreeze_at`` (``completed_at + MARKETPLACE_POINTS_FREEZE_SECONDS``),
  enqueued as a deferred job with the id ``unfreeze:{lot}`` — at the second, like the auction close job. The
  transition itself (frozen → available, under the lot lock, with a ledger idempotency key) makes it exactly once.
* ``sweep_points`` every 5 seconds schedules the job of every lot due before the next sweep (so the completion
  path needs no job queue: the order services run in requests, jobs and the CLI alike) and unfreezes any lot a
  job missed (worker down, lost job): the safety net.
* ``recompute_levels`` hourly (levels slide with the 365-day window; re-running is harmless) and
  ``expire_points`` hourly: expires every lot past 31 Dec Y+1 23:59:59 — idempotent, safe to re-run, so "the
  yearly job" needs no calendar of its own and catches up after downtime.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.jobs import JobContext, JobQueue, job, periodic
from marketplace.membership import services

log = logging.getLogger(__name__)

UNFREEZE_JOB = "unfreeze_points"
SWEEP_EVERY = timedelta(seconds=5)


def unfreeze_job_id(lot_id: int) -> str:
    return f"unfreeze:{lot_id}"


async def schedule_unfreeze(queue: JobQueue, lot_id: int, at: datetime) -> None:
    await queue.enqueue(UNFREEZE_JOB, lot_id, defer_until=at, job_id=unfreeze_job_id(lot_id))


async def _unfreeze_once(ctx: JobContext, lot_id: int) -> bool:
    async with ctx.session_factory() as session, session.begin():
        return await services.unfreeze_lot(session, lot_id, ctx.now(), ctx.settings)


@job
async def unfreeze_points(ctx: JobContext, lot_id: int) -> str:
    return "unfrozen" if await _unfreeze_once(ctx, lot_id) else "noop"


@periodic(every=SWEEP_EVERY)
async def sweep_points(ctx: JobContext) -> int:
    now = ctx.now()
    async with ctx.session_factory() as session:
        due = await services.lots_due(session, now, horizon=2 * SWEEP_EVERY)
    done = 0
    for lot_id, at in due:
        if at > now:
            await schedule_unfreeze(ctx.queue, lot_id, at)
            continue
        try:
            done += await _unfreeze_once(ctx, lot_id)
        except Exception:  # one bad lot must not stop the others; the next sweep retries it
            log.exception("could not unfreeze points lot %s", lot_id)
    return done


async def _each_in_its_transaction(ctx: JobContext, ids: Sequence[int],
                                   step: Callable[[AsyncSession, int], Awaitable[int]], failure: str) -> int:
    """Run ``step`` for every id in a transaction of its own and sum what the steps return (a bool counts 1). A
    failing id is logged (``failure % id``) and does not stop the others; the next run retries it (every step is
    idempotent)."""
    done = 0
    for item in ids:
        try:
            async with ctx.session_factory() as session, session.begin():
                done += await step(session, item)
        except Exception:
            log.exception(failure, item)
    return done


@periodic(every=timedelta(hours=1))
async def recompute_levels(ctx: JobContext) -> int:
    now = ctx.now()
    async with ctx.session_factory() as session:
        user_ids = await services.members_to_recompute(session, now, ctx.settings)

    async def step(session: AsyncSession, user_id: int) -> bool:
        before = await services.current_level(session, user_id)
        return before != await services.recompute_level(session, user_id, now, ctx.settings)

    return await _each_in_its_transaction(ctx, user_ids, step, "could not recompute the level of user %s")


async def expire_due(ctx: JobContext) -> int:
    now = ctx.now()
    async with ctx.session_factory() as session:
        lot_ids = await services.lots_expired(session, now)

    async def step(session: AsyncSession, lot_id: int) -> int:
        return await services.expire_lot(session, lot_id, now)

    return await _each_in_its_transaction(ctx, lot_ids, step, "could not expire points lot %s")


@periodic(every=timedelta(hours=1))
async def expire_points(ctx: JobContext) -> int:
    return await expire_due(ctx)


@periodic(every=timedelta(minutes=1))
async def renew_plus(ctx: JobContext) -> int:
    """PLUS auto-renewal (docs/rules.md §15): one try per ended period, then renewed or lapsed — exactly once
    (the service decides under the row lock; a re-run finds nothing due)."""
    now = ctx.now()
    async with ctx.session_factory() as session:
        due = await services.plus_due(session, now)

    async def step(session: AsyncSession, user_id: int) -> bool:
        return await services.renew_plus(session, user_id, now, ctx.settings) == "renewed"

    return await _each_in_its_transaction(ctx, due, step, "could not renew PLUS of user %s")


@periodic(every=timedelta(hours=1))
async def issue_birthday_coupons(ctx: JobContext) -> int:
    """Birthday coupons (docs/rules.md §15): "the daily job on the 1st" runs hourly and issues to every member
    whose birthday month it is (platform time zone) — so it catches up after downtime; the coupon's unique
    ``issue_key`` makes any re-run issue nothing more."""
    now = ctx.now()
    async with ctx.session_factory() as session:
        user_ids = await services.birthdays_this_month(session, now, ctx.settings)

    async def step(session: AsyncSession, user_id: int) -> bool:
        return await services.issue_birthday_coupon(session, user_id, now, ctx.settings) is not None

    return await _each_in_its_transaction(ctx, user_ids, step, "could not issue the birthday coupon of user %s")


@periodic(every=timedelta(days=1))
async def recompute_badges(ctx: JobContext) -> dict[str, int]:
    """Badges (docs/rules.md §16), daily: one DELETE + INSERT … SELECT per kind in one transaction."""
    async with ctx.session_factory() as session, session.begin():
        return await services.recompute_badges(session, ctx.now(), ctx.settings)
