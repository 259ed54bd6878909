"""The arq worker's composition root: ``marketplace worker`` runs :func:`worker_settings`.

The same wiring as the web app (:mod:`marketplace.wiring`: mappers, job modules, ports, event handlers), the same
job functions (:data:`marketplace.jobs.JOBS`), a :class:`JobContext` with the production ports.
"""

from __future__ import annotations

from typing import Any

from arq import create_pool, cron, func
from arq.connections import RedisSettings
from redis.asyncio import Redis

from marketplace import wiring
from marketplace.db import create_engine, session_factory
from marketplace.jobs import JOBS, PERIODIC, ArqJobQueue, JobContext, JobFunction, RedisPublisher
from marketplace.settings import Settings

# --- arq worker ------------------------------------------------------------------------------------------------


async def _worker_startup(ctx: dict[str, Any]) -> None:
    settings = Settings.from_env()
    assert settings.redis_url, "the worker needs MARKETPLACE_REDIS_URL"
    engine = create_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url)
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    ctx["engine"], ctx["redis"], ctx["pool"] = engine, redis, pool
    ctx["job_context"] = JobContext(
        settings=settings,
        session_factory=session_factory(engine),
        queue=ArqJobQueue(pool),
        publisher=RedisPublisher(redis),
    )


async def _worker_shutdown(ctx: dict[str, Any]) -> None:
    await ctx["pool"].aclose()
    await ctx["redis"].aclose()
    await ctx["engine"].dispose()


def _arq_adapter(fn: JobFunction) -> Any:  # arq's WorkerCoroutine protocol; typed loosely on purpose
    async def run(ctx: dict[str, Any], *args: Any) -> Any:
        return await fn(ctx["job_context"], *args)

    run.__name__ = fn.__name__
    return run


def worker_settings() -> type:
    """Build arq's ``WorkerSettings`` from the registered jobs (``marketplace worker`` runs it)."""
    wiring.subscribe_all()
    settings = Settings.from_env()
    functions = [func(_arq_adapter(fn), name=name, keep_result=0, max_tries=5) for name, fn in JOBS.items()]
    cron_jobs = []
    for spec in PERIODIC.values():
        seconds = int(spec.every.total_seconds())
        if seconds < 60:
            second_set = set(range(0, 60, seconds))
            cron_jobs.append(cron(_arq_adapter(spec.fn), name=spec.name, second=second_set, unique=True,
                                  run_at_startup=spec.run_at_startup, keep_result=0))
        else:
            minutes = max(1, seconds // 60)
            cron_jobs.append(cron(_arq_adapter(spec.fn), name=spec.name, minute=set(range(0, 60, minutes)),
                                  second=0, unique=True, run_at_startup=spec.run_at_startup, keep_result=0))

    class WorkerSettings:
        pass

    WorkerSettings.functions = functions  # type: ignore[attr-defined]
    WorkerSettings.cron_jobs = cron_jobs  # type: ignore[attr-defined]
    WorkerSettings.on_startup = _worker_startup  # type: ignore[attr-defined]
    WorkerSettings.on_shutdown = _worker_shutdown  # type: ignore[attr-defined]
    WorkerSettings.redis_settings = RedisSettings.from_dsn(settings.redis_url or "redis://127.0.0.1:6379")  # type: ignore[attr-defined]
    WorkerSettings.max_jobs = 20  # type: ignore[attr-defined]
    WorkerSettings.job_timeout = 120  # type: ignore[attr-defined]
    return WorkerSettings
