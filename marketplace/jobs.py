"""The job port (docs/architecture.md): one set of job functions, two ways to run them.

* Production: arq. ``marketplace worker`` runs :class:`WorkerSettings`; web processes enqueue through
  :class:`ArqJobQueue`. arq delivers at least once, so every job must be idempotent (docs/architecture.md).
* Embedded: :class:`InProcessJobQueue` runs the same functions as asyncio tasks in the web process, and the
  periodic ones (sweepers, auto-confirm, shop renewals) on a timer.

A job function is ``async def fn(ctx: JobContext, *args) -> Any`` registered with :func:`job`; a periodic one is
registered with :func:`periodic`. Domain ``tasks.py`` modules register themselves when imported by
:mod:`marketplace.wiring` (the composition root imports every task module statically).
"""

from __future__ import annotations

import asyncio
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


@dataclass
class Runtime:
    """This process's publisher and job queue, for event handlers that only get a session (marketplace/events.py)
    and must announce or enqueue after commit. Installed by the web app at startup and by the arq worker.

    Both belong to the event loop that installed them (a connection pool is bound to its loop). A caller on
    another loop (a test driving services beside a running app) is skipped: the periodic jobs pick up anything
    durable (pending e-mails, saved-search matches), and a live push is only a hint the page re-reads anyway."""

    publisher: Publisher
    queue: JobQueue | None = None
    loop: asyncio.AbstractEventLoop | None = None

    def _home(self) -> bool:
        return self.loop is None or self.loop is asyncio.get_running_loop()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        if self._home():
            await self.publisher.publish(channel, message)

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None:
        if self.queue is not None and self._home():
            await self.queue.enqueue(name, *args, job_id=job_id)


RUNTIME = Runtime(publisher=NullPublisher())


def install_runtime(publisher: Publisher, queue: JobQueue | None) -> None:
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    RUNTIME.publisher, RUNTIME.queue, RUNTIME.loop = publisher, queue, loop


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
