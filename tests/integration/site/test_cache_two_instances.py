"""Two app instances sharing Redis (two server processes): a write through one is never served stale by the
other — the cached home page, blocks and template overrides (docs/rules.md §18)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import delete

from marketplace.accounts.models import User
from marketplace.app import create_app
from marketplace.settings import Settings
from marketplace.site.models import Block
from tests.factories import api_admin, api_user, make_listing


@pytest.fixture
async def two(settings: Settings, redis_url: str, sessions: Any) -> AsyncIterator[tuple[Any, Any]]:
    shared = settings.with_(redis_url=redis_url, embedded_jobs=True)
    async with sessions() as s, s.begin():
        await s.execute(delete(Block))
    async with AsyncTestClient(app=create_app(shared)) as a, AsyncTestClient(app=create_app(shared)) as b:
        yield a, b


async def test_a_write_on_one_instance_is_seen_at_once_on_the_other(two: tuple[Any, Any], sessions: Any) -> None:
    a, b = two
    admin, seller = await api_admin(a, sessions), await api_user(a)
    async with sessions() as s, s.begin():
        listing = await make_listing(s, await s.get(User, seller["id"]), title="Brass lamp 黄铜灯", price=120)
        listing_id = listing.id

    # B caches the anonymous home page (the second request is a hit)
    assert "Brass lamp" in (await b.get("/")).text
    hits = b.app.state.cache.hits
    assert "Brass lamp" in (await b.get("/")).text
    assert b.app.state.cache.hits > hits

    # the seller ends the listing through A: B's cached page is gone before A's response returned
    assert (await a.delete(f"/api/v1/listings/{listing_id}", headers=seller["headers"])).status_code == 204
    assert "Brass lamp" not in (await b.get("/")).text

    # a block created through A shows on B's /blocks and home page at once
    async with sessions() as s, s.begin():
        await make_listing(s, await s.get(User, seller["id"]), title="Tea set 茶具", price=80)
    # (a direct DB write bypasses the app: B may serve its cached page until a write through an app bumps it)
    r = await a.post("/api/v1/admin/blocks", json={"title": "Tea corner 茶角", "slot": "home",
                                                   "query": {"q": "Tea"}}, headers=admin["headers"])
    assert r.status_code == 201
    assert [blk["title"] for blk in (await b.get("/api/v1/blocks", params={"slot": "home"})).json()] == [
        "Tea corner 茶角"]
    home = (await b.get("/")).text
    assert "Tea corner 茶角" in home
    assert "Tea set" in home

    # a template published through A serves on B's next request; rolled back through A, B serves the shipped one
    h = admin["headers"]
    r = await a.post("/api/v1/admin/templates/footer/versions",
                     json={"source": '<footer class="site-footer">SHARED-FOOTER</footer>'}, headers=h)
    assert r.status_code == 201
    assert (await a.post("/api/v1/admin/templates/footer/versions/1/publish", headers=h)).status_code == 200
    assert "SHARED-FOOTER" in (await b.get("/")).text
    assert (await a.delete("/api/v1/admin/templates/footer/override", headers=h)).status_code == 204
    assert "SHARED-FOOTER" not in (await b.get("/")).text

    # purge through A empties the shared store
    assert (await a.post("/api/v1/admin/cache/purge", headers=h)).status_code == 204
    assert (await b.get("/api/v1/admin/cache", headers=await _headers(b, admin))).json()["keys"] <= 2


async def _headers(client: Any, admin: dict[str, Any]) -> dict[str, str]:
    from tests.factories import api_login

    return await api_login(client, admin["username"])
