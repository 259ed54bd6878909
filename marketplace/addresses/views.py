"""The address book page: list, add, make default, delete (CSRF forms, 303 + flash)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from marketplace.addresses.services import AddressBook
from marketplace.errors import DomainError
from marketplace.i18n import N_
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AuthUser
from marketplace.web.pages import render

Form = URLEncodedBody[dict[str, Any]]


def _next(data: dict[str, Any]) -> str:
    target = str(data.get("next") or "")
    ok = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok else "/my/addresses"


class AddressViews(Controller):
    include_in_schema = False
    guards = (requires_login,)

    @get("/my/addresses")
    async def page(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB) -> Template:
        return await render(request, db_session, "addresses/list.html",
                            addresses=await AddressBook(db_session, user.id).list(), form={}, error=None,
                            next=str(request.query_params.get("next") or ""))

    @post("/my/addresses")
    async def add(self, request: Request[Any, Any, Any], data: Form, user: AuthUser,
                  db_session: DB) -> Template | Redirect:
        try:
            await AddressBook(db_session, user.id).add(dict(data), make_default=bool(data.get("is_default")))
        except DomainError as exc:
            if exc.status_code != 400:
                raise
            await db_session.rollback()
            return await render(request, db_session, "addresses/list.html", status_code=400,
                                addresses=await AddressBook(db_session, user.id).list(), form=data,
                                error=exc.detail, next=str(data.get("next") or ""))
        flash(request, N_("Address saved."), category="success")
        return Redirect(_next(data), status_code=303)

    @post("/my/addresses/{address_id:int}/default")
    async def make_default(self, request: Request[Any, Any, Any], address_id: FromPath[int], data: Form,
                           user: AuthUser, db_session: DB) -> Redirect:
        book = AddressBook(db_session, user.id)
        await book.set_default((await book.get(address_id)).id)
        flash(request, N_("Default address changed."), category="success")
        return Redirect("/my/addresses", status_code=303)

    @post("/my/addresses/{address_id:int}/delete")
    async def remove(self, request: Request[Any, Any, Any], address_id: FromPath[int], data: Form, user: AuthUser,
                     db_session: DB) -> Redirect:
        await AddressBook(db_session, user.id).delete(address_id)
        flash(request, N_("Address deleted."), category="success")
        return Redirect("/my/addresses", status_code=303)


ROUTES = [AddressViews]
