"""Shared fixtures: a real PostgreSQL database built by the Alembic migrations, a Redis db, the app, clients.

Every test process (each pytest-xdist worker) creates its own database ``marketplace_test_<pid>_<random>`` and
drops it at the end; tables are truncated after each test that used it. Redis tests use the process's private
``redis-server`` on a free port (or the shared one, see ``redis_base``), db ``MARKETPLACE_TEST_REDIS_DB`` (default
9) plus the worker number, and flush it. With ``MARKETPLACE_REQUIRE_SERVICES=1`` (set by .ci/run) a missing
service fails the run instead of skipping the tests that need it.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from argon2 import PasswordHasher, profiles
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from marketplace import migrate, wiring
from marketplace.accounts import passwords
from marketplace.app import create_app
from marketplace.db import Base, create_engine, drain_after_commit, session_factory
from marketplace.settings import Settings
from marketplace.wallet.gateway import sandbox_key
from tests.private_redis import PrivateRedis

# The composition root of the tests: every mapper, job, port and event handler, as in the app and the worker.
wiring.subscribe_all()

# argon2id with RFC 9106's parameters (64 MiB, 3 passes, 4 lanes) costs 0.1-1 s a hash on a loaded 2-core machine,
# and the suite registers and logs in thousands of users. In-process tests hash with argon2id's cheapest
# parameters instead (still argon2id: round trips, wrong passwords and rehash checks behave the same); server
# processes started by tests/e2e and tests/system keep the production parameters.
passwords._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
passwords._DUMMY_HASH = passwords._hasher.hash("not-a-real-password-only-for-timing")

REQUIRE_SERVICES = os.environ.get("MARKETPLACE_REQUIRE_SERVICES") == "1"
PG_ADMIN_DSN = os.environ.get("MARKETPLACE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("MARKETPLACE_TEST_REDIS", "redis://127.0.0.1:6379")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
REDIS_DB = int(os.environ.get("MARKETPLACE_TEST_REDIS_DB", "9")) + (int(WORKER[2:]) if WORKER[2:].isdigit() else 0)
TEST_SECRET = "test-secret-key-0123456789abcdef0123456789abcdef"


def _missing(service: str, exc: BaseException) -> None:
    message = f"{service} is not reachable: {exc!r}"
    if REQUIRE_SERVICES:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _asyncpg_dsn(dbname: str) -> str:
    base, _, _ = PG_ADMIN_DSN.rpartition("/")
    return f"{base}/{dbname}"


@pytest.fixture(scope="session")
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database with the schema built by ``alembic upgrade head``."""
    name = f"marketplace_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        _missing("PostgreSQL", exc)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = "postgresql+asyncpg://" + _asyncpg_dsn(name).split("://", 1)[1]
    await migrate.upgrade_async(url)
    yield url
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    # At most 30 connections per test process (the race tests queue their 100-200 tasks on them): PostgreSQL's
    # max_connections (100 by default) is shared by every xdist worker, the servers the system tests start and, on
    # a shared box, other people's runs; 60 a worker exhausted it in parallel runs ("too many clients already").
    engine = create_engine(pg_url, pool_size=10, max_overflow=20)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db_url(pg_url: str, pg_engine: AsyncEngine) -> AsyncIterator[str]:
    """The PostgreSQL URL, with every table emptied after the test."""
    yield pg_url
    await drain_after_commit()
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with pg_engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sessions(db_url: str, pg_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory on the test database (tests open their own transactions)."""
    return session_factory(pg_engine)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session in one transaction, committed at the end of the test body if it has not been already."""
    async with sessions() as s:
        yield s
        if s.in_transaction():
            await s.commit()


@pytest.fixture(scope="session")
def redis_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Redis server of this test process: a private ``redis-server`` on a free port where the binary exists
    and ``MARKETPLACE_TEST_REDIS`` is not set, else the shared one. Private, because a db number separates keys
    but not pub/sub: live-bid channels (``auction:1`` in every run, identities restart) are server-wide, so two
    workers, or two people's runs, would hear each other's bids; and a run that is not under xdist and another
    run's first worker would both flush db 9."""
    binary = shutil.which("redis-server")
    if "MARKETPLACE_TEST_REDIS" in os.environ or binary is None:
        yield REDIS_BASE
        return
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except RuntimeError:
        server.stop()
        yield REDIS_BASE
        return
    try:
        yield server.url.rsplit("/", 1)[0]
    finally:
        server.stop()


@pytest.fixture
async def redis_url(redis_base: str) -> AsyncIterator[str]:
    url = f"{redis_base}/{REDIS_DB}"
    client = Redis.from_url(url)
    try:
        await client.ping()
    except OSError as exc:
        await client.aclose()
        _missing("Redis", exc)
    await client.flushdb()
    yield url
    await client.flushdb()
    await client.aclose()


@pytest.fixture(scope="session")
def sandbox_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox gateway's two RSA keys, generated once per test process (two 2048-bit keys per test would
    cost seconds on a loaded machine); tests/integration/wallet tests the generation itself on empty dirs."""
    directory = tmp_path_factory.mktemp("sandbox") / "sandbox_keys"
    sandbox_key(directory, "gateway")
    sandbox_key(directory, "app")
    return directory


@pytest.fixture
def tmp_dirs(tmp_path: Path, sandbox_keys: Path) -> dict[str, Path]:
    """A data dir of the test's own (under pytest's per-worker tmp dir), holding copies of the sandbox keys."""
    data_dir = tmp_path / "var"
    shutil.copytree(sandbox_keys, data_dir / "sandbox_keys")
    return {"data_dir": data_dir, "media_dir": data_dir / "media"}


@pytest.fixture
def settings(db_url: str, tmp_dirs: dict[str, Path]) -> Settings:
    """Embedded-style settings (no Redis) on the PostgreSQL test database, paying through the sandbox gateway
    (chosen explicitly, as PostgreSQL requires)."""
    return Settings(database_url=db_url, secret_key=TEST_SECRET, min_auction_seconds=60, payment_gateway="sandbox",
                    base_url="http://testserver.local", **tmp_dirs)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


# Most tests read English text: every test client asks for English unless a test sets its own Accept-Language
# (Chinese is the site's default locale; tests about Chinese say so, tests/functional/test_i18n_pages.py).
_client_init = AsyncTestClient.__init__


def _english_by_default(self: AsyncTestClient[Any], *args: Any, **kwargs: Any) -> None:
    _client_init(self, *args, **kwargs)
    self.headers.setdefault("Accept-Language", "en")


AsyncTestClient.__init__ = _english_by_default  # type: ignore[method-assign]


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "pg_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
        if "redis_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)
