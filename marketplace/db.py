"""Declarative base, engines, sessions, and the after-commit hook.

Services never commit: the request session is owned by the advanced-alchemy plugin, jobs and the CLI open
``async with session_factory() as session, session.begin():``. Side effects that must only happen once the data is
durable (websocket publishes, job enqueues) are registered with :func:`after_commit`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ARRAY, BigInteger, DateTime, Integer, MetaData, Table, all_, any_, bindparam, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, INTEGER on SQLite (where only "INTEGER PRIMARY KEY" is the rowid alias).
BigId = BigInteger().with_variant(Integer(), "sqlite")
Coins = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` (docs/api.md: "Times are ISO 8601 in UTC"); None stays None."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text, so we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        # One writer at a time: every transaction starts with BEGIN IMMEDIATE so that "lock, then decide" holds
        # on SQLite too (SELECT ... FOR UPDATE is a no-op there); readers wait on busy_timeout instead of failing.
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions start (pysqlite's legacy behaviour).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# --- after-commit side effects ---------------------------------------------------------------------------------

_AFTER_COMMIT_KEY = "marketplace_after_commit"
_background: set[asyncio.Task[Any]] = set()


def after_commit(session: AsyncSession | Session, action: Callable[[], Awaitable[Any]]) -> None:
    """Run ``action`` once the session's current transaction has committed; drop it on rollback.

    Publishing or enqueueing before the commit could announce a bid that is then rolled back, or let a job read
    a row that is not there yet; after the commit both are safe (jobs re-read under lock anyway).
    """
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_AFTER_COMMIT_KEY, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    # Releasing a SAVEPOINT fires after_commit too; only the outermost commit makes the data durable.
    if session.in_nested_transaction():
        return
    actions = session.info.pop(_AFTER_COMMIT_KEY, [])
    if not actions:
        return
    loop = asyncio.get_running_loop()
    for action in actions:
        task = loop.create_task(_guarded(action))
        _background.add(task)
        task.add_done_callback(_background.discard)


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    # A rolled-back SAVEPOINT (e.g. a refused ledger post inside a larger transaction) does not end the
    # transaction: what was registered outside it must still run when the outer transaction commits.
    if session.in_nested_transaction():
        return
    session.info.pop(_AFTER_COMMIT_KEY, None)


async def _guarded(action: Callable[[], Awaitable[Any]]) -> None:
    try:
        await action()
    except Exception:  # a failed publish must never surface as a failed (already committed) request
        log.exception("after-commit action failed")


async def drain_after_commit() -> None:
    """Wait for pending after-commit actions (tests and graceful shutdown)."""
    while _background:
        await asyncio.gather(*list(_background), return_exceptions=True)


async def read_only(session: AsyncSession) -> None:
    """Run the rest of a read-only request's statements without a transaction (PostgreSQL autocommit): no BEGIN
    and COMMIT round trips around a browse page's few SELECTs (docs/performance.md, P3). Each statement then sees
    its own snapshot, which a page of listings and its capped count tolerate. Call it before the first statement;
    SQLite keeps its transaction."""
    if session.bind.dialect.name == "postgresql" and not session.in_transaction():
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def insert_into(session: AsyncSession, model: type[Any]) -> Any:
    """A dialect ``INSERT`` (PostgreSQL or SQLite, for ``on_conflict_do_nothing``) into ``model``'s table, for a
    Core executemany: one statement compiled once and cached, without an ORM object per row."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(cast(Table, model.__table__))


def one_of(column: Any, values: Iterable[Any], dialect: str, *, negate: bool = False) -> Any:
    """``column IN values`` (``NOT IN`` with ``negate``). On PostgreSQL it is ``column = ANY(:array)`` with one
    bound array: the SQL text is the same for any number of values, so SQLAlchemy does not re-render an expanded
    ``IN`` list per execution and asyncpg reuses one prepared statement (docs/performance.md, P3)."""
    values = list(values)
    if dialect != "postgresql":
        return column.not_in(values) if negate else column.in_(values)
    array = bindparam(None, values, type_=ARRAY(column.type))
    return column != all_(array) if negate else column == any_(array)
