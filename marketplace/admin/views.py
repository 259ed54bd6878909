"""Admin HTML pages: the dashboard, the category tree editor and user moderation (docs/architecture.md admin/).

Every action is a CSRF-protected form POST that answers 303 back to its page with a flash message. A refused
action rolls the request's transaction back before redirecting — the redirect itself would otherwise commit
(``autocommit_include_redirects``) whatever the service had already flushed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from marketplace.admin.moderation import STATUSES, ListingModeration
from marketplace.admin.services import AdminService
from marketplace.categories.api import category_service
from marketplace.db import utcnow
from marketplace.errors import DomainError, InvalidInput
from marketplace.i18n import N_, _
from marketplace.numbers import parse_int, parse_optional_int
from marketplace.web.auth import requires_admin
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401
from marketplace.web.pages import act, render

Form = URLEncodedBody[dict[str, Any]]
CATEGORIES_PAGE = "/admin/categories"
USERS_PAGE = "/admin/users"
LISTINGS_PAGE = "/admin/listings"

# The flash after a user action (English ids; %(name)s is the username).
DONE = {"ban": N_("%(name)s: ban done."), "unban": N_("%(name)s: unban done."),
        "make-admin": N_("%(name)s: make admin done."), "revoke-admin": N_("%(name)s: revoke admin done.")}


def local_back(value: Any, page: str) -> str:
    """``value`` when it is ``page`` itself or ``page?query``; otherwise ``page`` (no redirect off the list)."""
    text = str(value or "")
    ok = text == page or (text.startswith(page + "?") and not any(c in text for c in "\\\r\n"))
    return text if ok else page



def _int(form: dict[str, Any], key: str, *, optional: bool = False) -> int | None:
    """An integer form field; "" means "none" where ``optional`` (e.g. "top level" as the parent)."""
    if optional:
        return parse_optional_int(form.get(key), label=f"“{key}”")
    return parse_int(form.get(key), label=f"“{key}”")


def _flatten(nodes: list[dict[str, Any]], counts: dict[int, int], depth: int = 1,
             path: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The tree as rows in display order, each with its depth, sibling index and full path (for the selects)."""
    rows: list[dict[str, Any]] = []
    for index, node in enumerate(nodes):
        full = (*path, node["name"])
        rows.append({**node, "depth": depth, "index": index, "last": index == len(nodes) - 1,
                     "path": " › ".join(full), "listings": counts.get(node["id"], 0),
                     "has_children": bool(node["children"])})
        rows.extend(_flatten(node["children"], counts, depth + 1, full))
    return rows


class AdminViews(Controller):
    path = "/admin"
    guards = (requires_admin,)
    include_in_schema = False

    @get("/")
    async def dashboard(self, request: Request[Any, Any, Any], db_session: DB) -> Template:
        counts = await AdminService(db_session).counts()
        return await render(request, db_session, "admin/dashboard.html", counts=counts)

    # --- categories --------------------------------------------------------------------------------------------

    @get("/categories")
    async def categories(self, request: Request[Any, Any, Any], db_session: DB) -> Template:
        service = category_service(request, db_session)
        rows = _flatten(await service.tree(include_hidden=True), await service.listing_counts())
        return await render(request, db_session, "admin/categories.html", rows=rows,
                            max_depth=service.max_depth)

    @post("/categories")
    async def create_category(self, request: Request[Any, Any, Any], data: Form, db_session: DB) -> Redirect:
        async def action() -> str:
            cat = await category_service(request, db_session).create(
                str(data.get("name", "")), _int(data, "parent_id", optional=True))
            return _("Created “%(name)s” (/c/%(slug)s).", name=cat.name, slug=cat.slug)

        return await act(request, db_session, CATEGORIES_PAGE, action)

    @post("/categories/{category_id:int}/rename")
    async def rename_category(self, request: Request[Any, Any, Any], category_id: FromPath[int], data: Form,
                              db_session: DB) -> Redirect:
        async def action() -> str:
            cat = await category_service(request, db_session).rename(category_id, str(data.get("name", "")))
            return _("Renamed to “%(name)s”.", name=cat.name)

        return await act(request, db_session, CATEGORIES_PAGE, action)

    @post("/categories/{category_id:int}/move")
    async def move_category(self, request: Request[Any, Any, Any], category_id: FromPath[int], data: Form,
                            db_session: DB) -> Redirect:
        async def action() -> str:
            cat = await category_service(request, db_session).move(
                category_id, _int(data, "parent_id", optional=True))
            return _("Moved “%(name)s”.", name=cat.name)

        return await act(request, db_session, CATEGORIES_PAGE, action)

    @post("/categories/{category_id:int}/reorder")
    async def reorder_category(self, request: Request[Any, Any, Any], category_id: FromPath[int], data: Form,
                               db_session: DB) -> Redirect:
        async def action() -> str:
            cat = await category_service(request, db_session).reorder(category_id,
                                                                       max(0, _int(data, "position") or 0))
            return _("Reordered “%(name)s”.", name=cat.name)

        return await act(request, db_session, CATEGORIES_PAGE, action)

    @post("/categories/{category_id:int}/hide")
    async def hide_category(self, request: Request[Any, Any, Any], category_id: FromPath[int], data: Form,
                            db_session: DB) -> Redirect:
        async def action() -> str:
            hidden = str(data.get("hidden", "1")) == "1"
            cat = await category_service(request, db_session).set_hidden(category_id, hidden)
            return (_("“%(name)s” is now hidden.", name=cat.name) if cat.hidden
                    else _("“%(name)s” is now visible.", name=cat.name))

        return await act(request, db_session, CATEGORIES_PAGE, action)

    @post("/categories/{category_id:int}/merge")
    async def merge_category(self, request: Request[Any, Any, Any], category_id: FromPath[int], data: Form,
                             db_session: DB) -> Redirect:
        async def action() -> str:
            target = await category_service(request, db_session).merge(category_id, _int(data, "into_id") or 0)
            return _("Merged into “%(name)s”.", name=target.name)

        return await act(request, db_session, CATEGORIES_PAGE, action)

    @post("/categories/{category_id:int}/delete")
    async def delete_category(self, request: Request[Any, Any, Any], category_id: FromPath[int],
                              db_session: DB) -> Redirect:
        async def action() -> str:
            await category_service(request, db_session).delete(category_id)
            return "Category deleted."

        return await act(request, db_session, CATEGORIES_PAGE, action)

    # --- users -------------------------------------------------------------------------------------------------

    @get("/users")
    async def users(self, request: Request[Any, Any, Any], db_session: DB, q: FromQuery[str] = "",
                    page: FromQuery[int] = 1) -> Template:
        page = max(page, 1)
        users, total = await AdminService(db_session).users(q, page, per_page=50)
        return await render(request, db_session, "admin/users.html", users=users, total=total, q=q, page=page,
                            per_page=50)

    @post([f"/users/{{user_id:int}}/{name}" for name in ("ban", "unban", "make-admin", "revoke-admin")])
    async def user_action(self, request: Request[Any, Any, Any], user_id: FromPath[int], user: AuthUser,
                          db_session: DB, settings: AppSettings) -> Redirect:
        service = AdminService(db_session, token_cache=request.app.state.get("token_cache"),
                               publisher=request.app.state.publisher, settings=settings)
        action_name = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        reason = str((await request.form()).get("reason") or "")  # docs/rules.md §19.8
        actions: dict[str, Callable[[], Awaitable[Any]]] = {
            "ban": lambda: service.set_banned(user.id, user_id, True, reason),
            "unban": lambda: service.set_banned(user.id, user_id, False),
            "make-admin": lambda: service.set_admin(user.id, user_id, True),
            "revoke-admin": lambda: service.set_admin(user.id, user_id, False),
        }

        async def action() -> str:
            if action_name not in actions:
                raise InvalidInput("Unknown action.")
            target = await actions[action_name]()
            return _(DONE[action_name], name=target.username)

        return await act(request, db_session, USERS_PAGE, action)


    # --- listings ----------------------------------------------------------------------------------------------

    @get("/listings")
    async def listings(self, request: Request[Any, Any, Any], db_session: DB, q: FromQuery[str] = "",
                       status: FromQuery[str] = "active", page: FromQuery[int] = 1) -> Template:
        page = max(page, 1)
        try:
            rows, total = await ListingModeration(db_session).search(q, status, page)
        except DomainError as exc:
            flash(request, _(exc.detail), category="error")
            rows, total = [], 0
        return await render(request, db_session, "admin/listings.html", rows=rows, total=total, q=q,
                            status=status, statuses=STATUSES, page=page, per_page=50)

    @post("/listings/{listing_id:int}/remove")
    async def remove_listing(self, request: Request[Any, Any, Any], listing_id: FromPath[int], data: Form,
                             db_session: DB) -> Redirect:
        async def action() -> str:
            moderation = ListingModeration(db_session, request.app.state.publisher)
            listing = await moderation.remove(listing_id, utcnow())
            return _("Listing #%(id)s “%(title)s” removed.", id=listing.id, title=listing.title)

        # Back to the moderation list (with its filters) named by the form, never to the Referer header.
        return await act(request, db_session, local_back(data.get("back"), LISTINGS_PAGE), action)


ROUTES = [AdminViews]
