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


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Leave out the search structures made by raw SQL (migration 0103_search): they have no model on purpose."""
    from marketplace.listings.search import UNMANAGED_COLUMNS, UNMANAGED_INDEXES, UNMANAGED_TABLE_PREFIX

    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(UNMANAGED_TABLE_PREFIX)
    if type_ == "index":
        return name not in UNMANAGED_INDEXES
    if type_ == "column":
        return name not in UNMANAGED_COLUMNS
    return True


def _configure(connection: Connection | None = None, **kw: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=_include_name,
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
