"""The admin HTML pages: who may see them, and every category/user action through its CSRF-protected form."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.categories.models import Category
from tests.factories import PASSWORD, api_login, db_user, html_login, html_post

PAGES = ["/admin/", "/admin/categories", "/admin/users"]


@pytest.fixture
async def admin(client: Any, sessions: Any) -> User:
    user = await db_user(sessions, "root_admin", is_admin=True)
    await html_login(client, user.username)
    return user


async def categories(sessions: Any) -> dict[str, Category]:
    async with sessions() as s:
        return {c.name: c for c in await s.scalars(select(Category))}


async def follow(client: Any, r: Any) -> str:
    """Follow a 303 and return the page (with its flash message)."""
    assert r.status_code == 303, r.text
    page = await client.get(r.headers["location"])
    assert page.status_code == 200
    return str(page.text)


async def create(client: Any, name: str, parent_id: int | None = None) -> str:
    parent = "" if parent_id is None else parent_id
    r = await html_post(client, "/admin/categories", {"name": name, "parent_id": parent})
    assert r.headers["location"] == "/admin/categories"
    return await follow(client, r)


@pytest.mark.parametrize("page", PAGES)
async def test_anonymous_is_sent_to_login(client: Any, page: str) -> None:
    r = await client.get(page, follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"].startswith("/login")


@pytest.mark.parametrize("page", PAGES)
async def test_a_plain_user_gets_403(client: Any, sessions: Any, page: str) -> None:
    user = await db_user(sessions)
    await html_login(client, user.username)
    assert (await client.get(page)).status_code == 403


async def test_a_plain_user_cannot_post_admin_forms(client: Any, sessions: Any) -> None:
    user = await db_user(sessions)
    await html_login(client, user.username)
    r = await html_post(client, "/admin/categories", {"name": "Sneaky", "parent_id": ""})
    assert r.status_code == 403
    r = await html_post(client, f"/admin/users/{user.id}/make-admin", {})
    assert r.status_code == 403
    assert await categories(sessions) == {}
    async with sessions() as s:
        assert (await s.get(User, user.id)).is_admin is False  # type: ignore[union-attr]


async def test_dashboard_counts_and_links(client: Any, sessions: Any, admin: User) -> None:
    await db_user(sessions)
    await create(client, "Books")
    page = (await client.get("/admin/")).text
    for link in ("/admin/categories", "/admin/users", "/admin/disputes", "/admin/listings"):
        assert f'href="{link}"' in page
    assert '<span class="stat-num">2</span><span>users' in page
    assert '<span class="stat-num">1</span><span>categories' in page


async def test_create_rename_move_reorder_hide_delete_through_forms(client: Any, sessions: Any,
                                                                    admin: User) -> None:
    page = await create(client, "数码 Electronics")
    assert "Created “数码 Electronics” (/c/electronics)" in page
    electronics = (await categories(sessions))["数码 Electronics"]
    await create(client, "Phones", electronics.id)
    await create(client, "Cameras", electronics.id)
    await create(client, "Books")
    cats = await categories(sessions)
    page = (await client.get("/admin/categories")).text
    tree = page[page.index('class="admin-tree"'):]
    assert tree.index('data-slug="phones"') < tree.index('data-slug="cameras"') < tree.index('data-slug="books"')
    assert f'action="/admin/categories/{cats["Phones"].id}/rename"' in page
    assert 'name="_csrf_token"' in page

    page = await follow(client, await html_post(client, f"/admin/categories/{cats['Phones'].id}/rename",
                                                {"name": "Mobile phones"}))
    assert "Renamed to “Mobile phones”" in page
    await follow(client, await html_post(client, f"/admin/categories/{cats['Cameras'].id}/reorder",
                                         {"position": 0}))
    await follow(client, await html_post(client, f"/admin/categories/{cats['Books'].id}/move",
                                         {"parent_id": electronics.id}))
    await follow(client, await html_post(client, f"/admin/categories/{cats['Books'].id}/hide", {"hidden": "1"}))
    cats = await categories(sessions)
    assert cats["Mobile phones"].slug == "phones"
    assert (cats["Cameras"].position, cats["Mobile phones"].position) == (0, 1)
    assert cats["Books"].parent_id == electronics.id
    assert cats["Books"].hidden is True
    assert "Books" not in (await client.get("/categories")).text

    await follow(client, await html_post(client, f"/admin/categories/{cats['Books'].id}/hide", {"hidden": "0"}))
    assert "Books" in (await client.get("/categories")).text
    page = await follow(client, await html_post(client, f"/admin/categories/{cats['Books'].id}/delete", {}))
    assert "Category deleted." in page
    assert "Books" not in await categories(sessions)


async def test_merge_through_the_form(client: Any, sessions: Any, admin: User) -> None:
    await create(client, "Phones")
    await create(client, "Mobiles")
    cats = await categories(sessions)
    await create(client, "Used", cats["Phones"].id)
    page = await follow(client, await html_post(client, f"/admin/categories/{cats['Phones'].id}/merge",
                                                {"into_id": cats["Mobiles"].id}))
    assert "Merged into “Mobiles”" in page
    after = await categories(sessions)
    assert "Phones" not in after
    assert after["Used"].parent_id == cats["Mobiles"].id


async def test_refused_actions_flash_an_error_and_change_nothing(client: Any, sessions: Any, admin: User) -> None:
    await create(client, "Electronics")
    electronics = (await categories(sessions))["Electronics"]
    await create(client, "Phones", electronics.id)
    phones = (await categories(sessions))["Phones"]
    before = {n: (c.parent_id, c.position, c.hidden) for n, c in (await categories(sessions)).items()}

    attempts = [
        ("/admin/categories", {"name": "phones", "parent_id": electronics.id}, "already exists"),
        ("/admin/categories", {"name": "x" * 61, "parent_id": ""}, "at most 60 characters"),
        ("/admin/categories", {"name": "Orphan", "parent_id": "999999"}, "does not exist"),
        ("/admin/categories", {"name": "Bad", "parent_id": "abc"}, "must be a number"),
        (f"/admin/categories/{electronics.id}/move", {"parent_id": phones.id}, "under itself"),
        (f"/admin/categories/{electronics.id}/delete", {}, "still has sub-categories"),
        (f"/admin/categories/{electronics.id}/merge", {"into_id": phones.id}, "own sub-categories"),
        (f"/admin/categories/{phones.id}/rename", {"name": "  "}, "cannot be blank"),
        ("/admin/categories/999999/rename", {"name": "Ghost"}, "not found"),
    ]
    for path, data, message in attempts:
        page = await follow(client, await html_post(client, path, data))
        assert "flash-error" in page, path
        assert message in page, (path, message)
    after = {n: (c.parent_id, c.position, c.hidden) for n, c in (await categories(sessions)).items()}
    assert after == before


async def test_form_without_csrf_token_is_403_and_changes_nothing(client: Any, sessions: Any, admin: User) -> None:
    r = await client.post("/admin/categories", data={"name": "No token", "parent_id": ""}, follow_redirects=False)
    assert r.status_code == 403
    r = await client.post("/admin/categories", data={"name": "Bad token", "parent_id": "", "_csrf_token": "forged"},
                          follow_redirects=False)
    assert r.status_code == 403
    assert await categories(sessions) == {}


async def test_ban_unban_and_make_admin(client: Any, sessions: Any, admin: User) -> None:
    victim = await db_user(sessions, "victim")
    token = await api_login(client, "victim")
    assert (await client.get("/api/v1/me", headers=token)).status_code == 200
    page = (await client.get("/admin/users")).text
    assert f'action="/admin/users/{victim.id}/ban"' in page

    page = await follow(client, await html_post(client, f"/admin/users/{victim.id}/ban", {}))
    assert "victim: ban done." in page
    assert "banned" in page
    assert (await client.get("/api/v1/me", headers=token)).status_code == 401  # the token stopped working
    r = await client.post("/api/v1/auth/token", json={"username": "victim", "password": PASSWORD})
    assert r.status_code == 403

    await follow(client, await html_post(client, f"/admin/users/{victim.id}/unban", {}))
    assert (await client.get("/api/v1/me", headers=token)).status_code == 200
    await follow(client, await html_post(client, f"/admin/users/{victim.id}/make-admin", {}))
    assert (await client.get("/api/v1/me", headers=token)).json()["is_admin"] is True

    page = await follow(client, await html_post(client, f"/admin/users/{admin.id}/ban", {}))
    assert "cannot ban or demote themselves" in page
    async with sessions() as s:
        assert (await s.get(User, admin.id)).is_banned is False  # type: ignore[union-attr]


async def test_banned_user_loses_the_html_session(client: Any, sessions: Any) -> None:
    victim = await db_user(sessions, "victim2")
    await html_login(client, "victim2")
    assert "victim2" in (await client.get("/")).text
    async with sessions() as s, s.begin():
        (await s.get(User, victim.id)).is_banned = True  # type: ignore[union-attr]
    assert 'href="/login"' in (await client.get("/")).text


async def test_user_search(client: Any, sessions: Any, admin: User) -> None:
    await db_user(sessions, "findme_zz")
    await db_user(sessions, "other_yy")
    page = (await client.get("/admin/users", params={"q": "FINDME"})).text
    assert "findme_zz" in page
    assert "other_yy" not in page


async def test_moderation_api(client: Any, sessions: Any) -> None:
    from tests.factories import api_admin, api_user

    admin = await api_admin(client, sessions)
    victim = await api_user(client)
    url = f"/api/v1/admin/users/{victim['id']}"
    assert (await client.patch(url, json={"is_banned": True})).status_code == 401
    assert (await client.patch(url, json={"is_banned": True}, headers=victim["headers"])).status_code == 403
    r = await client.patch(url, json={"is_banned": True}, headers=admin["headers"])
    assert r.status_code == 200
    assert r.json() == {"id": victim["id"], "username": victim["username"], "is_admin": False, "is_banned": True,
                        "ban_reason": "Banned by an administrator."}  # docs/rules.md §19.8: the default reason
    assert (await client.get("/api/v1/me", headers=victim["headers"])).status_code == 401
    r = await client.patch(url, json={"is_banned": False, "is_admin": True}, headers=admin["headers"])
    assert (r.json()["is_banned"], r.json()["is_admin"]) == (False, True)
    assert (await client.get("/api/v1/me", headers=victim["headers"])).json()["is_admin"] is True
    r = await client.patch(f"/api/v1/admin/users/{admin['id']}", json={"is_admin": False}, headers=admin["headers"])
    assert r.status_code == 409
    r = await client.patch("/api/v1/admin/users/999999", json={"is_banned": True}, headers=admin["headers"])
    assert r.status_code == 404
