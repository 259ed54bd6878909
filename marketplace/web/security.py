"""Security headers on every HTTP response (issue 11 L4).

* ``Content-Security-Policy``: scripts only from our own ``/static`` (no inline ``<script>`` and no inline event
  handlers in the templates: static/js/*.js), no plugins, no framing (``frame-ancestors 'none'``), no ``<base>``
  tricks. Inline ``style=""`` attributes stay allowed (a card's background photo); they cannot run code.
* ``X-Frame-Options: DENY`` for browsers without CSP level 2, ``X-Content-Type-Options: nosniff`` (an upload is
  never sniffed into HTML), ``Referrer-Policy: strict-origin-when-cross-origin`` (signed payment URLs and search
  terms do not leak to other sites), and HSTS when the site is served over https.

The interactive API docs under ``/schema`` load Litestar's UI bundles from a CDN with inline bootstrapping, so they
get a CSP that allows exactly that instead; ``/schema/openapi.json`` is data either way.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
))
DOCS_CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com",
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com https://fonts.googleapis.com",
    "img-src 'self' data: https:",
    "font-src 'self' https://fonts.gstatic.com",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "frame-ancestors 'none'",
))


def security_headers(https: bool) -> dict[str, str]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


class SecurityHeadersMiddleware:
    """Plain ASGI middleware (outermost), so error pages and static files get the headers too. A header the
    response already sets is left alone (e.g. a page's own CSP)."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.headers = security_headers(https)
        # Encoded once: this runs on every response, cached pages included (docs/performance.md, P5).
        self._raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()]
        self._csp = CSP.encode("latin-1")
        self._docs_csp = DOCS_CSP.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = self._docs_csp if path.startswith("/schema") and not path.endswith(".json") else self._csp

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {bytes(name).lower() for name, _ in headers}
                headers += [(name, value) for name, value in self._raw if name not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
