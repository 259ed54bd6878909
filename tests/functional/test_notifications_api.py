"""docs/api.md "Watchlist, notifications, saved searches": every endpoint, status code and error.

Another user's notification ids: POST /notifications/read answers 404 and marks nothing (the same answer as an
id that does not exist), and GET /notifications only ever lists the caller's own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.db import drain_after_commit
from marketplace.notifications import rules
from marketplace.notifications.models import Notification, SavedSearch, WatchlistItem
from marketplace.notifications.services import notify
from tests.factories import api_user, make_category, make_listing

API = "/api/v1"


async def listing(sessions: async_sessionmaker[AsyncSession], seller_id: int, **kw: Any) -> int:
    async with sessions() as s, s.begin():
        seller = await s.get(User, seller_id)
        row = await make_listing(s, seller, **kw)
        return int(row.id)


async def give_notifications(sessions: async_sessionmaker[AsyncSession], user_id: int, n: int) -> list[int]:
    ids = []
    async with sessions() as s, s.begin():
        for i in range(n):
            nid = await notify(s, user_id, "outbid", f"Note {i}", body="b", url=f"/listings/{i}")
            assert nid is not None
            ids.append(nid)
    await drain_after_commit()
    return ids


# --- watchlist ---------------------------------------------------------------------------------------------------


async def test_watchlist_add_twice_list_delete(client: Any, sessions: Any) -> None:
    seller, me = await api_user(client), await api_user(client)
    lid = await listing(sessions, seller["id"])
    r = await client.post(f"{API}/watchlist", json={"listing_id": lid}, headers=me["headers"])
    assert r.status_code == 201, r.text
    assert r.json()["listing_id"] == lid
    assert r.json()["created_at"].endswith("Z")
    r = await client.post(f"{API}/watchlist", json={"listing_id": lid}, headers=me["headers"])
    assert r.status_code == 200
    r = await client.get(f"{API}/watchlist", headers=me["headers"])
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 1
    assert body["page"] == 1
    assert body["per_page"] == 20
    assert body["items"][0]["id"] == lid
    assert "current_price" in body["items"][0]
    r = await client.delete(f"{API}/watchlist/{lid}", headers=me["headers"])
    assert r.status_code == 204
    r = await client.get(f"{API}/watchlist", headers=me["headers"])
    assert r.json()["total"] == 0


async def test_watchlist_errors(client: Any, sessions: Any) -> None:
    me = await api_user(client)
    r = await client.post(f"{API}/watchlist", json={"listing_id": 999999}, headers=me["headers"])
    assert r.status_code == 404
    for bad in ({"listing_id": "x"}, {"listing_id": True}, {}, [1]):
        r = await client.post(f"{API}/watchlist", json=bad, headers=me["headers"])
        assert r.status_code == 400, bad
    r = await client.post(f"{API}/watchlist", json={"listing_id": 1})
    assert r.status_code == 401


async def test_watchlist_409_over_500(client: Any, sessions: Any) -> None:
    seller, me = await api_user(client), await api_user(client)
    async with sessions() as s, s.begin():
        seller_row = await s.get(User, seller["id"])
        cat = await make_category(s)
        ids = [(await make_listing(s, seller_row, cat)).id for _ in range(rules.MAX_WATCHED + 1)]
        s.add_all([WatchlistItem(user_id=me["id"], listing_id=i) for i in ids[:-1]])
    r = await client.post(f"{API}/watchlist", json={"listing_id": ids[-1]}, headers=me["headers"])
    assert r.status_code == 409
    r = await client.post(f"{API}/watchlist", json={"listing_id": ids[0]}, headers=me["headers"])
    assert r.status_code == 200  # already watched: no new row, so no limit
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(WatchlistItem)) == rules.MAX_WATCHED


# --- notifications -----------------------------------------------------------------------------------------------


async def test_list_and_mark_read(client: Any, sessions: Any) -> None:
    me, other = await api_user(client), await api_user(client)
    ids = await give_notifications(sessions, me["id"], 3)
    await give_notifications(sessions, other["id"], 1)
    r = await client.get(f"{API}/notifications", headers=me["headers"])
    assert r.status_code == 200
    body = r.json()
    assert (body["total"], body["unread"], body["page"], body["per_page"]) == (3, 3, 1, 20)
    assert [n["id"] for n in body["items"]] == sorted(ids, reverse=True)  # newest first
    first = body["items"][0]
    assert set(first) == {"id", "kind", "title", "body", "url", "created_at", "read"}
    assert first["read"] is False
    assert first["kind"] == "outbid"

    r = await client.post(f"{API}/notifications/read", json={"ids": [ids[0]]}, headers=me["headers"])
    assert r.status_code == 200
    assert r.json() == {"unread": 2}
    r = await client.get(f"{API}/notifications?unread=true", headers=me["headers"])
    assert r.json()["total"] == 2
    assert all(not n["read"] for n in r.json()["items"])
    r = await client.post(f"{API}/notifications/read", json={"all": True}, headers=me["headers"])
    assert r.json() == {"unread": 0}


async def test_other_users_ids_are_404_and_change_nothing(client: Any, sessions: Any) -> None:
    me, other = await api_user(client), await api_user(client)
    mine = await give_notifications(sessions, me["id"], 1)
    theirs = await give_notifications(sessions, other["id"], 1)
    r = await client.post(f"{API}/notifications/read", json={"ids": [mine[0], theirs[0]]}, headers=me["headers"])
    assert r.status_code == 404
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.read_at.is_not(None))) == 0
    r = await client.get(f"{API}/notifications", headers=me["headers"])
    assert [n["id"] for n in r.json()["items"]] == mine


async def test_mark_read_bad_input(client: Any) -> None:
    me = await api_user(client)
    for bad in ({}, {"ids": []}, {"ids": ["a"]}, {"all": "yes"}, {"ids": 3}):
        r = await client.post(f"{API}/notifications/read", json=bad, headers=me["headers"])
        assert r.status_code == 400, bad
    r = await client.get(f"{API}/notifications?per_page=0", headers=me["headers"])
    assert r.status_code == 400
    r = await client.get(f"{API}/notifications?unread=maybe", headers=me["headers"])
    assert r.status_code == 400
    assert (await client.get(f"{API}/notifications")).status_code == 401


# --- settings ----------------------------------------------------------------------------------------------------


async def test_notification_settings(client: Any) -> None:
    me = await api_user(client)
    r = await client.get(f"{API}/me/notification-settings", headers=me["headers"])
    assert r.status_code == 200
    assert r.json()["email"] == dict.fromkeys(rules.KINDS, True)
    r = await client.put(f"{API}/me/notification-settings", json={"email": {"outbid": False}},
                         headers=me["headers"])
    assert r.status_code == 200
    assert r.json()["email"]["outbid"] is False
    assert r.json()["email"]["won"] is True
    r = await client.put(f"{API}/me/notification-settings", json={"email": {"nope": False, "won": False}},
                         headers=me["headers"])
    assert r.status_code == 400
    assert "nope" in r.json()["detail"]
    r = await client.put(f"{API}/me/notification-settings", json={"email": {"won": "no"}}, headers=me["headers"])
    assert r.status_code == 400
    r = await client.get(f"{API}/me/notification-settings", headers=me["headers"])
    assert r.json()["email"]["won"] is True
    assert r.json()["email"]["outbid"] is False


# --- saved searches ----------------------------------------------------------------------------------------------


async def test_saved_searches(client: Any, sessions: Any) -> None:
    me, other = await api_user(client), await api_user(client)
    r = await client.post(f"{API}/saved-searches", json={"q": "camera", "mode": "auction", "max_price": 500},
                          headers=me["headers"])
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved["q"] == "camera"
    assert saved["mode"] == "auction"
    assert saved["max_price"] == 500
    assert saved["category_id"] is None
    assert isinstance(saved["id"], int)
    r = await client.post(f"{API}/saved-searches", json={}, headers=me["headers"])
    assert r.status_code == 201
    r = await client.get(f"{API}/saved-searches", headers=me["headers"])
    assert r.status_code == 200
    assert len(r.json()) == 2
    r = await client.delete(f"{API}/saved-searches/{saved['id']}", headers=other["headers"])
    assert r.status_code == 404
    r = await client.delete(f"{API}/saved-searches/{saved['id']}", headers=me["headers"])
    assert r.status_code == 204
    r = await client.delete(f"{API}/saved-searches/{saved['id']}", headers=me["headers"])
    assert r.status_code == 404
    for bad in ({"mode": "swap"}, {"max_price": -1}, {"max_price": "x"}, {"category_id": 999999}, {"q": 5}):
        r = await client.post(f"{API}/saved-searches", json=bad, headers=me["headers"])
        assert r.status_code == 400, bad


async def test_saved_searches_409_over_50(client: Any, sessions: Any) -> None:
    me = await api_user(client)
    async with sessions() as s, s.begin():
        s.add_all([SavedSearch(user_id=me["id"], q=f"q{i}") for i in range(rules.MAX_SAVED_SEARCHES)])
    r = await client.post(f"{API}/saved-searches", json={"q": "one more"}, headers=me["headers"])
    assert r.status_code == 409
