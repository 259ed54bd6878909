"""The job port (DESIGN.md §2): one set of job functions, two ways to run them.

* Production: arq. ``marketplace worker`` runs :class:`WorkerSettings`; web processes enqueue through
  :class:`ArqJobQueue`. arq delivers at least once, so every job must be idempotent (DESIGN.md §9).
* Embedded: :class:`InProcessJobQueue` runs the same functions as asyncio tasks in the web process, and the
  periodic ones (sweepers, auto-confirm, shop renewals) on a timer.

A job function is ``async def fn(ctx: JobContext, *args) -> Any`` registered with :func:`job`; a periodic one is
registered with :func:`periodic`. Domain ``tasks.py`` modules register themselves when imported by
:func:`load_tasks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.db import utcnow
from marketplace.settings import Settings

log = logging.getLogger(__name__)

JobFunction = Callable[..., Awaitable[Any]]
TASK_MODULES = (
    "marketplace.wallet.tasks",
    "marketplace.catalog.tasks",
    "marketplace.orders.tasks",
    "marketplace.auctions.tasks",
    "marketplace.shops.tasks",
)


class Publisher(Protocol):
    """Sends a live-update message to everyone watching ``channel`` (any server process)."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...


class NullPublisher:
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        return None


@dataclass
class JobContext:
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    queue: JobQueue
    publisher: Publisher
    now: Callable[[], datetime] = utcnow


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    fn: JobFunction
    every: timedelta
    run_at_startup: bool = True


JOBS: dict[str, JobFunction] = {}
PERIODIC: dict[str, PeriodicJob] = {}


def job(fn: JobFunction) -> JobFunction:
    JOBS[fn.__name__] = fn
    return fn


def periodic(every: timedelta, *, run_at_startup: bool = True) -> Callable[[JobFunction], JobFunction]:
    def register(fn: JobFunction) -> JobFunction:
        PERIODIC[fn.__name__] = PeriodicJob(fn.__name__, fn, every, run_at_startup)
        return fn

    return register


def load_tasks() -> None:
    for name in TASK_MODULES:
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(name)


class JobQueue(Protocol):
    async def enqueue(
        self, name: str, *args: Any, defer_until: datetime | None = None, job_id: str | None = None
    ) -> None: ...


class InProcessJobQueue:
    """Runs jobs as tasks of this event loop (embedded mode). A ``job_id`` already waiting is not queued twice."""

    def __init__(self, context_factory: Callable[[JobQueue], JobContext]) -> None:
        self._ctx = context_factory(self)
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._anonymous: set[asyncio.Task[Any]] = set()
        self._periodic: list[asyncio.Task[Any]] = []

    @property
    def context(self) -> JobContext:
        return self._ctx

    async def enqueue(
        self, name: str, *args: Any, defer_until: datetime | None = None, job_id: str | None = None
    ) -> None:
        fn = JOBS[name]
        if job_id is not None and job_id in self._tasks and not self._tasks[job_id].done():
            return
        task = asyncio.get_running_loop().create_task(self._run(fn, args, defer_until))
        if job_id is None:
            self._anonymous.add(task)
            task.add_done_callback(self._anonymous.discard)
        else:
            self._tasks[job_id] = task
            key: str = job_id

            def forget(_task: asyncio.Task[Any]) -> None:
                self._tasks.pop(key, None)

            task.add_done_callback(forget)

    async def _run(self, fn: JobFunction, args: tuple[Any, ...], defer_until: datetime | None) -> None:
        if defer_until is not None:
            delay = (defer_until - self._ctx.now()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
        try:
            await fn(self._ctx, *args)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed", fn.__name__)

    def start_periodic(self) -> None:
        for spec in PERIODIC.values():
            self._periodic.append(asyncio.get_running_loop().create_task(self._loop(spec)))

    async def _loop(self, spec: PeriodicJob) -> None:
        if not spec.run_at_startup:
            await asyncio.sleep(spec.every.total_seconds())
        while True:
            try:
                await spec.fn(self._ctx)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic job %s failed", spec.name)
            await asyncio.sleep(spec.every.total_seconds())

    async def close(self) -> None:
        tasks = [*self._periodic, *self._tasks.values(), *self._anonymous]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class ArqJobQueue:
    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def enqueue(
        self, name: str, *args: Any, defer_until: datetime | None = None, job_id: str | None = None
    ) -> None:
        await self.pool.enqueue_job(name, *args, _job_id=job_id, _defer_until=defer_until)


class RedisPublisher:
    """Publishes from processes without the Channels plugin (the arq worker) in the plugin's own wire format."""

    def __init__(self, redis: Redis) -> None:
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend

        self.backend = RedisChannelsPubSubBackend(redis=redis)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        import msgspec

        await self.backend.publish(msgspec.json.encode(message), [channel])


# --- arq worker ------------------------------------------------------------------------------------------------


async def _worker_startup(ctx: dict[str, Any]) -> None:
    from arq import create_pool
    from arq.connections import RedisSettings

    from marketplace.db import create_engine, session_factory

    settings = Settings.from_env()
    assert settings.redis_url, "the worker needs MARKETPLACE_REDIS_URL"
    engine = create_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url)
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    ctx["engine"], ctx["redis"], ctx["pool"] = engine, redis, pool
    # A job's writes (auction closes, expiries) bump the shared cache versions like a request's (docs/rules.md §18)
    from litestar.stores.redis import RedisStore

    from marketplace.site.cache import Cache, set_process_cache

    set_process_cache(Cache(RedisStore(redis, namespace="cache")))
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
    from arq import cron, func
    from arq.connections import RedisSettings

    load_tasks()
    from marketplace import wiring  # the worker is a composition root too (the structure work moves this)
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
