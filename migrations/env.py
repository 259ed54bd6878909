"""Async Alembic environment for SQLite (aiosqlite) and PostgreSQL (asyncpg).

The URL is, in order: ``config.attributes["url"]`` (set by ``marketplace.migrate``), then
``MARKETPLACE_DATABASE_URL``, then the settings default.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import marketplace.models  # noqa: F401  (fills Base.metadata)
from marketplace.db import Base
from marketplace.settings import Settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url")
    return str(url) if url else Settings.from_env().database_url


def _configure(connection: Connection | None = None, **kw: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=True,  # SQLite can only ALTER through table copies
        **kw,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Several `marketplace serve` processes may start at once: one migrates, the others wait and find
        # nothing left to do. The lock is released when the connection's transaction ends.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7246001)")
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(_url(), poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
