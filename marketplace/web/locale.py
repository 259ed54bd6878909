"""Which language a request is answered in (docs/architecture.md "Languages").

HTML pages: the signed-in user's language setting, then the ``lang`` cookie (the header's zh / EN switch), then
``Accept-Language``, then the default (zh_CN). The API: ``Accept-Language``, then the user's setting, then the
default. :class:`LocaleMiddleware` runs after authentication and before the page cache (whose key carries the
locale) and sets :mod:`marketplace.i18n`'s locale for the rest of the request.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from marketplace import i18n
from marketplace.identity import CurrentUser
from marketplace.web.auth import is_api_path

LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def _cookie(headers: Headers, name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is the browser's problem, not a 500
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def choose_locale(path: str, headers: Headers, user: Any) -> str:
    setting = i18n.parse_locale(user.language) if isinstance(user, CurrentUser) and user.language else None
    browser = i18n.negotiate(headers.get("accept-language"))
    if is_api_path(path):
        return browser or setting or i18n.DEFAULT_LOCALE
    cookie = i18n.parse_locale(_cookie(headers, LANG_COOKIE))
    return setting or cookie or browser or i18n.DEFAULT_LOCALE


class LocaleMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in (ScopeType.HTTP, ScopeType.WEBSOCKET):
            await self.app(scope, receive, send)
            return
        locale = choose_locale(scope.get("path", ""), Headers.from_scope(scope), scope.get("user"))
        with i18n.use_locale(locale):
            await self.app(scope, receive, send)
