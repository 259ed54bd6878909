"""Whole-page HTML caching for anonymous visitors (docs/rules.md §18).

Signed-in visitors see their name, CSRF-protected forms and flashes, so their pages are rendered each time (their
slot blocks still come from the shared cache). An anonymous page without pending flash messages is stored as
HTML under a key that includes the versions of everything it shows; a page that carries a CSRF token is never
stored (the token belongs to one visitor).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response
from litestar.response import Template

from marketplace.site.cache import Cache
from marketplace.web.auth import current_user

PAGE_DEPENDS = ("categories", "templates", "blocks", "shops")
PAGE_TTL = 120


def cacheable(request: Request[Any, Any, Any]) -> bool:
    if current_user(request) is not None or request.method != "GET":
        return False
    session = request.scope.get("session")
    return not (isinstance(session, dict) and session.get("_messages"))


def render_to_string(request: Request[Any, Any, Any], template: Template) -> str:
    engine = request.app.template_engine
    assert engine is not None
    assert template.template_name is not None
    context = template.create_template_context(request)
    return str(engine.get_template(template.template_name).render(**context))


async def cached_page(request: Request[Any, Any, Any], key: str, depends_on: tuple[str, ...],
                      produce: Callable[[], Awaitable[Template]]) -> Template | Response[bytes]:
    cache: Cache = request.app.state.cache
    if not cacheable(request):
        return await produce()
    full_key = await cache.key_for(f"page:{key}", (*PAGE_DEPENDS, *depends_on))
    raw = await cache.get_raw(full_key)
    if raw is None:
        template = await produce()
        if template.status_code not in (None, 200):
            return template
        html = render_to_string(request, template)
        raw = html.encode()
        if 'name="_csrf_token"' not in html:
            await cache.set_raw(full_key, raw, PAGE_TTL)
    return Response(raw, media_type="text/html; charset=utf-8", headers={"X-Cache-Key": key})
