"""HTML pages: /notifications, /watchlist, /me/notification-settings (with the saved searches), and the form
endpoints behind the watch button and the "save this search" button.

Every form carries the CSRF token and answers 303 with a flash. The watch button's script posts the same form
with ``Accept: application/json`` (and the ``X-CSRFToken`` header) and gets ``{"watched": bool}`` instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from marketplace.errors import DomainError
from marketplace.i18n import N_, _
from marketplace.notifications import rules
from marketplace.notifications.listings_port import serialize_raw
from marketplace.notifications.services import (
    NotificationService,
    SavedSearchService,
    WatchlistService,
    query_of,
)
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser
from marketplace.web.pages import render

Form = URLEncodedBody[dict[str, Any]]
PER_PAGE = 20


def _local(target: Any, default: str) -> str:
    """A local path only (never an open redirect)."""
    text = str(target or "")
    ok = text.startswith("/") and not text.startswith("//") and "\\" not in text
    return text if ok else default


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _positive_int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


class NotificationViews(Controller):
    include_in_schema = False
    guards = (requires_login,)

    # --- watchlist ----------------------------------------------------------------------------------------------

    @get("/watchlist")
    async def watchlist(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings,
                        user: AuthUser, page: FromQuery[int] = 1) -> Template:
        page = max(page, 1)
        listings, total = await WatchlistService(db_session).page(user.id, page, PER_PAGE)
        items = await serialize_raw(db_session, settings, listings, user.id)
        now = datetime.now(UTC)
        rows = [{"l": out, "raw": raw, "left": raw.ends_at - now if raw.ends_at and raw.status == "active" else None}
                for out, raw in zip(items, listings, strict=True)]
        return await render(request, db_session, "notifications/watchlist.html", rows=rows, total=total, page=page,
                            per_page=PER_PAGE)

    @get("/watchlist/ids")
    async def watched_ids(self, db_session: DB, user: AuthUser) -> dict[str, list[int]]:
        """What the watch buttons of a page need: every listing id the user watches (at most 500)."""
        ids = await WatchlistService(db_session).all_ids(user.id)
        return {"ids": ids}

    @post("/watchlist")
    async def watch_form(self, request: Request[Any, Any, Any], data: Form, db_session: DB,
                         user: AuthUser) -> Response[Any]:
        """``op`` = add | remove | toggle (the button without its script does not know the state: toggle)."""
        listing_id = _positive_int(data.get("listing_id"))
        back = _local(data.get("next"), "/watchlist")
        svc = WatchlistService(db_session)
        op = str(data.get("op") or "toggle")
        try:
            if listing_id is None or op not in ("add", "remove", "toggle"):
                raise DomainError("Choose a listing to watch.")
            if op == "toggle":
                op = "remove" if await svc.watched_ids(user.id, [listing_id]) else "add"
            if op == "add":
                await svc.add(user.id, listing_id)
            else:
                await svc.remove(user.id, listing_id)
        except DomainError as exc:
            if _wants_json(request):
                return Response({"detail": _(exc.detail)}, status_code=exc.status_code)
            flash(request, _(exc.detail), category="error")
            return Redirect(back, status_code=303)
        watched = op == "add"
        if _wants_json(request):
            return Response({"listing_id": listing_id, "watched": watched}, status_code=200)
        flash(request, N_("Added to your watchlist.") if watched else "Removed from your watchlist.",
              category="success")
        return Redirect(back, status_code=303)

    # --- notifications ------------------------------------------------------------------------------------------

    @get("/notifications")
    async def notifications(self, request: Request[Any, Any, Any], db_session: DB, user: AuthUser,
                            page: FromQuery[int] = 1) -> Template:
        result = await NotificationService(db_session).page(user.id, page=max(page, 1), per_page=PER_PAGE,
                                                            unread_first=True)
        return await render(request, db_session, "notifications/list.html", result=result, labels=rules.KIND_LABELS)

    @post("/notifications/read")
    async def mark_read(self, request: Request[Any, Any, Any], data: Form, db_session: DB,
                        user: AuthUser) -> Redirect:
        svc = NotificationService(db_session)
        try:
            if str(data.get("all") or "") in ("1", "true", "on"):
                await svc.mark_read(user.id, all_=True)
            else:
                nid = _positive_int(data.get("id"))
                if nid is None:
                    raise DomainError("Choose a notification.")
                await svc.mark_read(user.id, [nid])
        except DomainError as exc:
            flash(request, _(exc.detail), category="error")
        return Redirect(_local(data.get("next"), "/notifications"), status_code=303)

    # --- settings and saved searches ----------------------------------------------------------------------------

    @get("/me/notification-settings")
    async def settings_page(self, request: Request[Any, Any, Any], db_session: DB, user: AuthUser) -> Template:
        email = await NotificationService(db_session).email_settings(user.id)
        searches = await SavedSearchService(db_session).list(user.id)
        return await render(request, db_session, "notifications/settings.html", email=email,
                            labels=rules.KIND_LABELS, searches=[(s, query_of(s)) for s in searches],
                            describe=rules.describe_search, search_url=rules.search_url)

    @post("/me/notification-settings")
    async def save_settings(self, request: Request[Any, Any, Any], data: Form, db_session: DB,
                            user: AuthUser) -> Redirect:
        # Unchecked boxes are not sent: every kind the form showed and did not send is off.
        changes = {kind: f"email_{kind}" in data for kind in rules.KINDS}
        await NotificationService(db_session).set_email_settings(user.id, changes)
        flash(request, N_("E-mail settings saved."), category="success")
        return Redirect("/me/notification-settings", status_code=303)

    @post("/saved-searches")
    async def save_search(self, request: Request[Any, Any, Any], data: Form, db_session: DB,
                          user: AuthUser) -> Redirect:
        fields = {k: data.get(k) for k in ("q", "category_id", "mode", "max_price")}
        try:
            saved = await SavedSearchService(db_session).create(user.id, fields)
        except DomainError as exc:
            flash(request, _(exc.detail), category="error")
            return Redirect(_local(data.get("next"), "/search"), status_code=303)
        flash(request, N_("Search saved: we will tell you about new matches."), category="success")
        return Redirect(rules.search_url(query_of(saved)), status_code=303)

    @post("/saved-searches/{search_id:int}/delete")
    async def delete_search(self, request: Request[Any, Any, Any], search_id: FromPath[int], db_session: DB,
                            user: AuthUser) -> Redirect:
        try:
            await SavedSearchService(db_session).delete(user.id, search_id)
        except DomainError as exc:
            flash(request, _(exc.detail), category="error")
        else:
            flash(request, N_("Saved search deleted."), category="success")
        return Redirect("/me/notification-settings", status_code=303)


ROUTES: list[Any] = [NotificationViews]
