"""JSON API: watchlist, notifications, e-mail settings, saved searches (docs/api.md "Watchlist, notifications,
saved searches")."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from marketplace.db import iso
from marketplace.notifications import rules
from marketplace.notifications.exceptions import InvalidNotificationInput
from marketplace.notifications.listings_port import serialize
from marketplace.notifications.services import (
    NotificationService,
    SavedSearchService,
    WatchlistService,
    notification_out,
    saved_search_out,
)
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser


def _int_id(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**62:
        raise InvalidNotificationInput("%(name)s must be a positive integer.", name=name)
    return value


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidNotificationInput("Send a JSON object.")
    return data


def _unread_flag(value: str | None) -> bool:
    if value in (None, "", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise InvalidNotificationInput("unread must be true or false.")


class WatchlistController(Controller):
    path = "/watchlist"
    tags = ("watchlist",)
    guards = (requires_login,)

    @post("/", summary="Watch a listing (201; 200 when already watched)")
    async def add(self, data: JSONBody[Any], user: AuthUser, db_session: DB) -> Response[dict[str, Any]]:
        listing_id = _int_id(_object(data).get("listing_id"), "listing_id")
        item, created = await WatchlistService(db_session).add(user.id, listing_id)
        return Response({"listing_id": item.listing_id, "created_at": iso(item.created_at)},
                        status_code=201 if created else 200)

    @delete("/{listing_id:int}", status_code=204, summary="Stop watching a listing")
    async def remove(self, listing_id: FromPath[int], user: AuthUser, db_session: DB) -> None:
        await WatchlistService(db_session).remove(user.id, listing_id)

    @get("/", summary="Watched listings, most recently watched first")
    async def list_watched(self, user: AuthUser, db_session: DB, settings: AppSettings,
                           page: FromQuery[int] = 1, per_page: FromQuery[int] = 20) -> dict[str, Any]:
        listings, total = await WatchlistService(db_session).page(user.id, page, per_page)
        items = await serialize(db_session, settings, listings, user.id)
        return {"items": items, "total": total, "page": page, "per_page": per_page}


class NotificationController(Controller):
    path = "/notifications"
    tags = ("notifications",)
    guards = (requires_login,)

    @get("/", summary="My notifications, newest first")
    async def list_notifications(self, user: AuthUser, db_session: DB, unread: FromQuery[str | None] = None,
                                 page: FromQuery[int] = 1, per_page: FromQuery[int] = 20) -> dict[str, Any]:
        result = await NotificationService(db_session).page(user.id, unread_only=_unread_flag(unread), page=page,
                                                            per_page=per_page)
        return {"items": [notification_out(n) for n in result.items], "total": result.total,
                "unread": result.unread, "page": result.page, "per_page": result.per_page}

    @post("/read", status_code=200, summary="Mark notifications read: {ids: [...]} or {all: true}")
    async def mark_read(self, data: JSONBody[Any], user: AuthUser, db_session: DB) -> dict[str, int]:
        body = _object(data)
        svc = NotificationService(db_session)
        if body.get("all") is True:
            return {"unread": await svc.mark_read(user.id, all_=True)}
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids:
            raise InvalidNotificationInput('Send {"ids": [...]} or {"all": true}.')
        return {"unread": await svc.mark_read(user.id, [_int_id(i, "ids[]") for i in ids])}


class SettingsController(Controller):
    path = "/me/notification-settings"
    tags = ("notifications",)
    guards = (requires_login,)

    @get("/", summary="Which notification kinds are e-mailed")
    async def get_settings(self, user: AuthUser, db_session: DB) -> dict[str, Any]:
        return {"email": await NotificationService(db_session).email_settings(user.id)}

    @put("/", summary="Turn e-mail on or off per kind (400 for an unknown kind)")
    async def put_settings(self, data: JSONBody[Any], user: AuthUser, db_session: DB) -> dict[str, Any]:
        try:
            changes = rules.parse_email_settings(data)
        except rules.SettingsError as exc:
            raise InvalidNotificationInput(exc.msgid, **exc.values) from exc
        return {"email": await NotificationService(db_session).set_email_settings(user.id, changes)}


class SavedSearchController(Controller):
    path = "/saved-searches"
    tags = ("saved searches",)
    guards = (requires_login,)

    @post("/", status_code=201, summary="Save a search (at most 50)")
    async def create(self, data: JSONBody[Any], user: AuthUser, db_session: DB) -> dict[str, Any]:
        return saved_search_out(await SavedSearchService(db_session).create(user.id, _object(data)))

    @get("/", summary="My saved searches")
    async def list_searches(self, user: AuthUser, db_session: DB) -> list[dict[str, Any]]:
        return [saved_search_out(s) for s in await SavedSearchService(db_session).list(user.id)]

    @delete("/{search_id:int}", status_code=204, summary="Delete a saved search (404 for someone else's)")
    async def remove(self, search_id: FromPath[int], user: AuthUser, db_session: DB) -> None:
        await SavedSearchService(db_session).delete(user.id, search_id)


ROUTES: list[Any] = [WatchlistController, NotificationController, SettingsController, SavedSearchController]
