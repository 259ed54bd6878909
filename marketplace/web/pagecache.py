"""Whole-page HTML caching for anonymous visitors (docs/rules.md §18).

Signed-in visitors see their name, CSRF-protected forms and flashes, so their pages are rendered each time (their
slot blocks still come from the shared cache). An anonymous page without pending flash messages is stored as
HTML under a key made of its path and query string, the reader's language and time zone (times are rendered in
it: marketplace/localtime.py, set per request by web/zone.py; the ``tz`` cookie the browser sets picks the copy),
stamped with the versions of everything it shows (a bump makes it a miss); a page that carries
a CSRF token is never stored (the token belongs to one visitor).

Two halves with one key: the handler (:func:`cached_page`) renders and stores on a miss; a hit is answered
before routing, dependency injection and the database are touched — by :class:`FrontPageCache` in front of the
whole app when the request carries neither credentials nor a session cookie (a first visit, a crawler, a
benchmark: no middleware runs at all), else by :class:`PageCacheMiddleware` once the session and authentication
middleware have said the visitor is anonymous with no pending flash.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.response import Template
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from marketplace import i18n
from marketplace.cache import Cache
from marketplace.localtime import current_zone, set_zone
from marketplace.web.auth import current_user
from marketplace.web.locale import choose_locale
from marketplace.web.zone import zone_for

log = logging.getLogger(__name__)

PAGE_DEPENDS = ("categories", "templates", "blocks", "shops", "listings")
PAGE_TTL = 120
# The language is chosen from these (marketplace/web/locale.py); shared caches must not mix languages.
VARY = "Accept-Language, Cookie"
HTML = "text/html; charset=utf-8"
_LISTING = re.compile(r"^/listings/(\d+)$")
# The pages cached whole (home, category, listing, search result and shop pages).
_CACHED = re.compile(r"^(/|/c/[^/]+|/listings/\d+|/search|/shops/[^/]+)$")


def page_dependencies(path: str) -> tuple[str, ...]:
    match = _LISTING.match(path)
    return (*PAGE_DEPENDS, f"listing:{match.group(1)}") if match else PAGE_DEPENDS


def _session_is_clean(scope: Scope) -> bool:
    session = scope.get("session")
    return not (isinstance(session, dict) and session.get("_messages"))


def page_key(path: str, query_string: bytes) -> str:
    """The key of one page in the current request's language and zone: a Chinese page is never served to an English
    visitor, nor a Shanghai copy to New York."""
    return f"page:{i18n.current_locale()}:{current_zone()}:{path}?{query_string.decode('latin-1')}"


def cacheable(request: Request[Any, Any, Any]) -> bool:
    return current_user(request) is None and request.method == "GET" and _session_is_clean(request.scope)


def render_to_string(request: Request[Any, Any, Any], template: Template) -> str:
    engine = request.app.template_engine
    assert engine is not None
    assert template.template_name is not None
    context = template.create_template_context(request)
    return str(engine.get_template(template.template_name).render(**context))


async def cached_page(request: Request[Any, Any, Any], produce: Callable[[], Awaitable[Template]]) -> Any:
    """The handler's half: on a miss, render the page and store it with the versions it was rendered from (the
    middleware serves later hits)."""
    if not cacheable(request):
        return await produce()
    cache: Cache = request.app.state.cache
    path = request.scope["path"]
    key = page_key(path, request.scope.get("query_string", b""))
    depends = page_dependencies(path)
    raw = await cache.get_stamped(key, depends)
    if raw is None:
        versions = await cache.versions(depends)  # before rendering: a write meanwhile makes the copy stale
        template = await produce()
        if template.status_code not in (None, 200):
            return template
        html = render_to_string(request, template)
        raw = html.encode()
        if 'name="_csrf_token"' not in html:
            await cache.set_stamped(key, versions, raw, PAGE_TTL)
    return Response(raw, media_type=HTML, headers={"Vary": VARY})


async def _send_hit(send: Send, raw: bytes) -> None:
    start: HTTPResponseStartEvent = {
        "type": "http.response.start", "status": 200,
        "headers": [(b"content-type", HTML.encode()), (b"content-length", str(len(raw)).encode()),
                    (b"x-page-cache", b"hit"), (b"vary", VARY.encode())]}
    body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": raw, "more_body": False}
    await send(start)
    await send(body)


class FrontPageCache:
    """Plain ASGI, in front of Litestar's router (inside the security headers): answers an anonymous GET of a
    cached page when the request has no ``Authorization`` header and no session cookie — then there is no user
    and no flash, so the session and authentication middleware could only say "anonymous, clean". The language
    and zone are chosen by the same functions their middleware use. Anything else, and any error here (an
    unreachable cache), goes on to the app unchanged (docs/performance.md, P5)."""

    def __init__(self, app: ASGIApp, session_cookie: str) -> None:
        self.app = app
        self.session_cookie = re.compile(rf"(?:^|;)\s*{re.escape(session_cookie)}=")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == ScopeType.HTTP and scope.get("method") == "GET" and _CACHED.match(path):
            raw = None
            try:
                raw = await self._hit(scope, path)
            except Exception:  # the app's own path answers (and reports an outage as a 503)
                log.debug("front page cache skipped", exc_info=True)
            if raw is not None:
                await _send_hit(send, raw)
                return
        await self.app(scope, receive, send)

    async def _hit(self, scope: Scope, path: str) -> bytes | None:
        cookie = ""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                return None
            if name == b"cookie":
                cookie = value.decode("latin-1")
        if cookie and self.session_cookie.search(cookie):
            return None
        cache: Cache = scope["litestar_app"].state.cache
        set_zone(zone_for(scope))  # the zone middleware sets it again for a request that goes on
        with i18n.use_locale(choose_locale(path, Headers.from_scope(scope), None)):
            key = page_key(path, scope.get("query_string", b""))
        return await cache.get_stamped(key, page_dependencies(path), count_miss=False)


class PageCacheMiddleware:
    """Answers an anonymous GET of a cached page straight from the cache (after the session and auth middleware):
    the page and the versions of what it shows in one read of the store."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] == ScopeType.HTTP and scope.get("method") == "GET" and _CACHED.match(path)
                and scope.get("user") is None and _session_is_clean(scope)):
            cache: Cache = scope["litestar_app"].state.cache
            raw = await cache.get_stamped(page_key(path, scope.get("query_string", b"")), page_dependencies(path),
                                          count_miss=False)  # the handler looks again and counts the miss
            if raw is not None:
                await _send_hit(send, raw)
                return
        await self.app(scope, receive, send)
