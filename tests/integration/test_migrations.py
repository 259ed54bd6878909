"""The schema: Alembic builds it on fresh PostgreSQL and SQLite databases, and the models do not drift from it."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

import asyncpg
from litestar.testing import AsyncTestClient
from sqlalchemy import inspect

from marketplace import migrate
from marketplace.app import create_app
from marketplace.categories.services import CategoryService
from marketplace.db import Base, create_engine, session_factory
from marketplace.settings import Settings
from tests.conftest import PG_ADMIN_DSN, TEST_SECRET, _asyncpg_dsn, _missing
from tests.factories import PASSWORD, make_user


async def _upgrade_and_check(url: str) -> set[str]:
    """Run ``alembic upgrade head`` then ``alembic check`` (raises on drift); returns the tables built."""
    await asyncio.to_thread(migrate.upgrade, url)
    await asyncio.to_thread(migrate.check, url)
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_fresh_postgresql_upgrade_head_has_no_drift() -> None:
    name = f"marketplace_mig_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        _missing("PostgreSQL", exc)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = "postgresql+asyncpg://" + _asyncpg_dsn(name).split("://", 1)[1]
        tables = await _upgrade_and_check(url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    assert set(Base.metadata.tables) <= tables


async def test_fresh_sqlite_upgrade_head_has_no_drift(tmp_path: Path) -> None:
    tables = await _upgrade_and_check(f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    assert set(Base.metadata.tables) <= tables


async def test_sqlite_smoke_register_token_me_and_categories(tmp_path: Path) -> None:
    """The embedded (SQLite) configuration end to end through the HTTP layer."""
    url = f"sqlite+aiosqlite:///{tmp_path}/smoke.db"
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s, s.begin():
            await make_user(s, "sqlite_admin", is_admin=True)
            hidden = await CategoryService(s).create("Secret")
            await CategoryService(s).set_hidden(hidden.id, True)
    finally:
        await engine.dispose()
    settings = Settings(database_url=url, secret_key=TEST_SECRET, data_dir=tmp_path / "var",
                        media_dir=tmp_path / "var" / "media")
    async with AsyncTestClient(app=create_app(settings)) as client:
        r = await client.post("/api/v1/auth/register",
                              json={"username": "sqlite_user", "email": "s@example.com", "password": PASSWORD})
        assert r.status_code == 201
        r = await client.post("/api/v1/auth/token", json={"username": "sqlite_user", "password": PASSWORD})
        assert r.status_code == 200
        user = {"Authorization": f"Bearer {r.json()['token']}"}
        me = (await client.get("/api/v1/me", headers=user)).json()
        assert (me["username"], me["is_admin"], me["wallet"]) == ("sqlite_user", False, {"available": 0, "held": 0})

        r = await client.post("/api/v1/auth/token", json={"username": "sqlite_admin", "password": PASSWORD})
        admin = {"Authorization": f"Bearer {r.json()['token']}"}
        r = await client.post("/api/v1/admin/categories", json={"name": "数码 Electronics", "parent_id": None},
                              headers=admin)
        assert r.status_code == 201
        root = r.json()
        r = await client.post("/api/v1/admin/categories", json={"name": "手机", "parent_id": root["id"]},
                              headers=admin)
        assert r.status_code == 201
        child = r.json()
        assert child["slug"] == f"cat-{child['id']}"
        r = await client.post("/api/v1/admin/categories", json={"name": "手机", "parent_id": root["id"]},
                              headers=admin)
        assert r.status_code == 409
        r = await client.patch(f"/api/v1/admin/categories/{root['id']}",
                               json={"parent_id": child["id"]}, headers=admin)
        assert r.status_code == 409  # under its own child
        public = (await client.get("/api/v1/categories")).json()
        assert [(n["slug"], [c["name"] for c in n["children"]]) for n in public] == [("electronics", ["手机"])]
        everything = (await client.get("/api/v1/categories", headers=admin)).json()
        assert [n["name"] for n in everything] == ["Secret", "数码 Electronics"]
        assert (await client.get("/api/v1/categories", headers=user)).json() == public

