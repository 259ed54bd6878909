"""HTML: the bell badge, /notifications (unread first, mark one/all read), /watchlist and the watch button
(form fallback and the script's JSON answer), the settings page, "save this search"; all forms with CSRF."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.db import drain_after_commit
from marketplace.notifications.models import Notification, NotificationSetting, SavedSearch, WatchlistItem
from marketplace.notifications.services import notify
from tests.factories import db_user, html_login, html_post, make_listing


async def notes(sessions: async_sessionmaker[AsyncSession], user_id: int, titles: list[str]) -> list[int]:
    ids = []
    async with sessions() as s, s.begin():
        for t in titles:
            nid = await notify(s, user_id, "outbid", t, url="/listings/1")
            assert nid is not None
            ids.append(nid)
    await drain_after_commit()
    return ids


async def listing_of(sessions: async_sessionmaker[AsyncSession], title: str = "Brass lamp") -> int:
    async with sessions() as s, s.begin():
        seller = await s.get(User, (await db_user_in(s)).id)
        return int((await make_listing(s, seller, title=title)).id)


async def db_user_in(s: AsyncSession) -> User:
    from tests.factories import quick_user

    return await quick_user(s)


async def test_bell_badge_and_notifications_page(client: Any, sessions: Any) -> None:
    me = await db_user(sessions)
    await html_login(client, me.username)
    page = (await client.get("/")).text
    assert 'id="notif-count"' in page
    assert "/static/js/notifications.js" in page
    ids = await notes(sessions, me.id, ["First note", "Second note", "Third note"])
    page = (await client.get("/")).text
    assert 'data-unread="3"' in page
    r = await html_post(client, "/notifications/read", {"id": str(ids[2])})
    assert r.status_code == 303
    assert r.headers["location"] == "/notifications"
    page = (await client.get("/notifications")).text
    # unread first (newest first among them), then the read one
    assert page.index("Second note") < page.index("First note") < page.index("Third note")
    assert 'data-unread="2"' in page
    r = await html_post(client, "/notifications/read", {"all": "1"})
    assert r.status_code == 303
    async with sessions() as s:
        assert list(await s.scalars(select(Notification.id).where(Notification.read_at.is_(None)))) == []


async def test_someone_elses_notification_form_changes_nothing(client: Any, sessions: Any) -> None:
    me, other = await db_user(sessions), await db_user(sessions)
    (theirs,) = await notes(sessions, other.id, ["Private"])
    await html_login(client, me.username)
    r = await html_post(client, "/notifications/read", {"id": str(theirs)})
    assert r.status_code == 303
    async with sessions() as s:
        assert (await s.get(Notification, theirs)).read_at is None  # type: ignore[union-attr]
    assert "Private" not in (await client.get("/notifications")).text


async def test_watch_button_form_and_json(client: Any, sessions: Any) -> None:
    me = await db_user(sessions)
    lid = await listing_of(sessions)
    await html_login(client, me.username)
    page = (await client.get(f"/listings/{lid}")).text
    assert f'data-watch-listing="{lid}"' in page
    r = await html_post(client, "/watchlist", {"listing_id": str(lid), "op": "toggle", "next": f"/listings/{lid}"})
    assert r.status_code == 303
    assert r.headers["location"] == f"/listings/{lid}"
    assert (await client.get("/watchlist/ids")).json() == {"ids": [lid]}
    page = (await client.get("/watchlist")).text
    assert "Brass lamp" in page
    # the script: JSON with the X-CSRFToken header
    token = client.cookies.get("csrftoken")
    r = await client.post("/watchlist", data={"listing_id": str(lid), "op": "remove"},
                          headers={"Accept": "application/json", "X-CSRFToken": token})
    assert r.status_code == 200
    assert r.json() == {"listing_id": lid, "watched": False}
    r = await client.post("/watchlist", data={"listing_id": "999999", "op": "add"},
                          headers={"Accept": "application/json", "X-CSRFToken": token})
    assert r.status_code == 404
    async with sessions() as s:
        assert list(await s.scalars(select(WatchlistItem.listing_id))) == []
    r = await client.post("/watchlist", data={"listing_id": str(lid), "op": "add"}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token


async def test_settings_page_and_saved_search_form(client: Any, sessions: Any) -> None:
    me = await db_user(sessions)
    await html_login(client, me.username)
    page = (await client.get("/me/notification-settings")).text
    assert 'name="email_outbid"' in page
    r = await html_post(client, "/me/notification-settings", {"email_won": "1"})
    assert r.status_code == 303
    async with sessions() as s:
        rows = dict((await s.execute(select(NotificationSetting.kind, NotificationSetting.email)
                                     .where(NotificationSetting.user_id == me.id))).all())
    assert rows["won"] is True
    assert rows["outbid"] is False
    page = (await client.get("/search?q=lamp&mode=fixed")).text
    assert 'action="/saved-searches"' in page
    r = await html_post(client, "/saved-searches", {"q": "lamp", "mode": "fixed", "max_price": ""})
    assert r.status_code == 303
    assert r.headers["location"] == "/search?q=lamp&mode=fixed"
    async with sessions() as s:
        (saved,) = list(await s.scalars(select(SavedSearch)))
    assert (saved.q, saved.mode, saved.max_price) == ("lamp", "fixed", None)
    assert "“lamp”" in (await client.get("/me/notification-settings")).text
    r = await html_post(client, "/saved-searches", {"mode": "swap"})
    assert r.status_code == 303  # back with an error flash, nothing saved
    r = await html_post(client, f"/saved-searches/{saved.id}/delete", {})
    assert r.status_code == 303
    async with sessions() as s:
        assert list(await s.scalars(select(SavedSearch.id))) == []


async def test_pages_need_login(client: Any) -> None:
    for path in ("/notifications", "/watchlist", "/me/notification-settings"):
        r = await client.get(path, follow_redirects=False)
        assert r.status_code in (302, 303, 401), path
