"""The shop renewal job (docs/rules.md §6): renew, move to grace, suspend — whatever is due.

Hourly rather than daily so that a shop is renewed or lapses within an hour of its ``paid_until``; a run with
nothing due costs one indexed query. Idempotent by construction: each shop is moved in its own transaction with
its row locked and its state re-checked (``ShopService.advance``), so overlapping runs — two arq workers, a
retry after a crash, the embedded loop beside a manual run — charge a period once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from marketplace.cache import Cache
from marketplace.db import drain_after_commit
from marketplace.jobs import JobContext, periodic
from marketplace.shops.services import RenewalOutcome, ShopService

log = logging.getLogger(__name__)


@periodic(every=timedelta(hours=1))
async def renew_shops(ctx: JobContext) -> list[RenewalOutcome]:
    now = ctx.now()
    async with ctx.session_factory() as session:
        ids = await ShopService(session, ctx.settings).due_shop_ids(now)
    if not ids:
        return []
    async with _shared_cache(ctx) as cache:
        return await _advance_all(ctx, ids, now, cache)


@asynccontextmanager
async def _shared_cache(ctx: JobContext) -> AsyncIterator[Cache | None]:
    """The web processes' Redis cache, so a suspension bumps the versions browse pages depend on. In embedded
    mode the cache lives in the web process's memory, out of the job's reach: cached pages expire by TTL."""
    if not ctx.settings.redis_url:
        yield None
        return
    from litestar.stores.redis import RedisStore
    from redis.asyncio import Redis

    redis = Redis.from_url(ctx.settings.redis_url)
    try:
        yield Cache(RedisStore(redis, namespace="cache"))
    finally:
        await drain_after_commit()  # the version bumps run after each commit; let them finish before closing
        await redis.aclose()


async def _advance_all(ctx: JobContext, ids: list[int], now: datetime, cache: Cache | None) -> list[RenewalOutcome]:
    outcomes = []
    for shop_id in ids:
        try:
            async with ctx.session_factory() as session, session.begin():
                outcome = await ShopService(session, ctx.settings, cache).advance(shop_id, now)
        except Exception:  # one broken shop must not stop the others; the next run retries it
            log.exception("renewing shop %s failed", shop_id)
            continue
        if outcome.step:
            log.info("shop %s: %s (charged %s)", shop_id, outcome.step, outcome.charged)
            outcomes.append(outcome)
    return outcomes
