"""The reader's time zone for this request (marketplace/localtime.py): the signed-in user's setting, else the
browser's zone from the ``tz`` cookie (static/js/localtime.js), else the default. Runs after authentication and
before the page cache, which keys anonymous pages by it (web/pagecache.py)."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from urllib.parse import unquote

from litestar.types import ASGIApp, Receive, Scope, Send

from marketplace.identity import CurrentUser
from marketplace.localtime import ZONE_COOKIE, set_zone


def cookie_zone(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:  # a malformed cookie header just means "no zone"
                return None
            morsel = jar.get(ZONE_COOKIE)
            return unquote(morsel.value) if morsel else None
    return None


def zone_for(scope: Scope) -> str | None:
    user = scope.get("user")
    if isinstance(user, CurrentUser):
        return user.time_zone
    return cookie_zone(scope)


class ZoneMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            set_zone(zone_for(scope))  # an invalid or missing name falls back to the default
        await self.app(scope, receive, send)
