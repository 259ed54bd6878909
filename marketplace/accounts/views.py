"""HTML pages: register, log in, log out, API tokens (the public profile is served by orders/views.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from marketplace import i18n
from marketplace.accounts.api import client_ip, login_throttle
from marketplace.accounts.services import AccountService
from marketplace.db import utcnow
from marketplace.errors import DomainError, InvalidInput, NotFound, RateLimited
from marketplace.i18n import N_, _
from marketplace.localtime import zone_names
from marketplace.web.auth import SESSION_USER_KEY, requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401
from marketplace.web.locale import LANG_COOKIE, LANG_COOKIE_MAX_AGE
from marketplace.web.pages import render
from marketplace.web.sessions import logged_in_session

Form = URLEncodedBody[dict[str, Any]]


def _safe_next(value: Any) -> str:
    """Only local paths: an open redirect after login would hand phishers our domain."""
    text = str(value or "/")
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else "/"


class AccountViews(Controller):
    include_in_schema = False

    @get("/register")
    async def register_form(self, request: Request[Any, Any, Any], db_session: DB) -> Template:
        return await render(request, db_session, "accounts/register.html", form={}, error=None)

    @post("/register")
    async def register(
        self, request: Request[Any, Any, Any], data: Form, db_session: DB
    ) -> Template | Redirect:
        form = {k: str(v) for k, v in data.items()}
        try:
            user = await AccountService(db_session).register(
                form.get("username", ""), form.get("email", ""), form.get("password", "")
            )
        except DomainError as exc:
            form.pop("password", None)
            return await render(request, db_session, "accounts/register.html", form=form, error=exc.detail,
                                status_code=exc.status_code)
        request.clear_session()
        request.set_session(logged_in_session(user.id, SESSION_USER_KEY))
        flash(request, _("Welcome, %(name)s!", name=user.username), category="success")
        return Redirect("/", status_code=303)

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], db_session: DB,
                         next: FromQuery[str] = "/") -> Template:
        return await render(request, db_session, "accounts/login.html", form={"next": _safe_next(next)}, error=None)

    @post("/login")
    async def login(self, request: Request[Any, Any, Any], data: Form, db_session: DB) -> Template | Redirect:
        form = {k: str(v) for k, v in data.items()}
        username, password = form.get("username", ""), form.get("password", "")
        throttle = login_throttle(request)
        try:
            await throttle.attempt(username, client_ip(request))
            user = await AccountService(db_session).authenticate(username, password)
            await throttle.succeeded(username, client_ip(request))
        except DomainError as exc:
            form.pop("password", None)
            page = await render(request, db_session, "accounts/login.html", form=form, error=exc.detail,
                                status_code=exc.status_code)
            if isinstance(exc, RateLimited):  # docs/rules.md §11: the form's 429 carries Retry-After like the API's
                page.headers["Retry-After"] = str(exc.retry_after)
            return page
        request.clear_session()
        request.set_session(logged_in_session(user.id, SESSION_USER_KEY))
        flash(request, _("Logged in as %(name)s.", name=user.username), category="success")
        return Redirect(_safe_next(form.get("next")), status_code=303)

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect("/", status_code=303)


def _language_redirect(language: str | None, next_path: Any) -> Redirect:
    redirect = Redirect(_safe_next(next_path), status_code=303)
    if language is None:
        redirect.delete_cookie(LANG_COOKIE)
    else:
        redirect.set_cookie(LANG_COOKIE, language, max_age=LANG_COOKIE_MAX_AGE, samesite="lax", httponly=True)
    return redirect


class LanguageViews(Controller):
    """The header's zh / EN switch and the language setting (docs/architecture.md "Languages").

    ``GET /language?to=en&next=/`` only sets the ``lang`` cookie (no server state: the worst a forged link can do
    is switch a visitor's language), so anonymous pages keep no CSRF token and stay in the page cache. ``POST
    /language`` (CSRF-checked) also saves the signed-in user's setting, which wins over the cookie.
    """

    path = "/language"
    include_in_schema = False

    @get("/")
    async def switch(self, to: FromQuery[str] = "", next: FromQuery[str] = "/") -> Redirect:
        return _language_redirect(i18n.parse_locale(to) or i18n.DEFAULT_LOCALE, next)

    @post("/")
    async def save(self, request: Request[Any, Any, Any], data: Form, db_session: DB,
                   optional_user: MaybeUser) -> Redirect:
        choice = str(data.get("language", ""))
        language = i18n.parse_locale(choice)
        if choice and language is None:
            raise InvalidInput(N_("Choose Chinese or English."))
        if optional_user is not None:
            await AccountService(db_session).set_language(optional_user.id, language)
            flash(request, _("Language saved.") if language else _("The language now follows your browser."),
                  category="success")
        return _language_redirect(language, data.get("next"))


class TokenViews(Controller):
    """``/account/tokens``: the user's API tokens (created, last used, expiry) and a Revoke button for each."""

    path = "/account/tokens"
    include_in_schema = False
    guards = (requires_login,)

    @get("/")
    async def tokens(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB) -> Template:
        return await render(request, db_session, "accounts/tokens.html",
                            tokens=await AccountService(db_session).tokens(user.id), now=utcnow())

    @post("/{token_id:int}/revoke")
    async def revoke(self, request: Request[Any, Any, Any], token_id: FromPath[int], user: AuthUser,
                     db_session: DB) -> Redirect:
        done = await AccountService(db_session).revoke_token(user.id, token_id=token_id,
                                                             cache=request.app.state.get("token_cache"))
        if not done:
            raise NotFound(N_("Token not found."))
        flash(request, _("Token revoked."), category="success")
        return Redirect(TokenViews.path, status_code=303)


class SettingsViews(Controller):
    """``/account/settings``: the user's time zone (the times on their pages are shown in it)."""

    path = "/account/settings"
    include_in_schema = False
    guards = (requires_login,)

    @get("/")
    async def settings_form(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB) -> Template:
        row = await AccountService(db_session).get(user.id)
        return await render(request, db_session, "accounts/settings.html", zones=sorted(zone_names()),
                            form={"time_zone": row.time_zone}, error=None)

    @post("/")
    async def save(self, request: Request[Any, Any, Any], data: Form, user: AuthUser,
                   db_session: DB) -> Template | Redirect:
        form = {k: str(v) for k, v in data.items()}
        try:
            await AccountService(db_session).set_time_zone(user.id, form.get("time_zone", ""))
        except DomainError as exc:
            return await render(request, db_session, "accounts/settings.html", zones=sorted(zone_names()),
                                form=form, error=exc.detail, status_code=exc.status_code)
        flash(request, _("Settings saved."), category="success")
        return Redirect(SettingsViews.path, status_code=303)


ROUTES = [AccountViews, LanguageViews, TokenViews, SettingsViews]
