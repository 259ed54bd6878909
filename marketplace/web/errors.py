"""The one table that turns exceptions into responses (docs/architecture.md).

API paths answer Litestar's JSON error format ``{"status_code", "detail"}`` plus ``message``, the detail translated
into the request's language (``detail`` stays the stable English text, docs/api.md); HTML paths render an error
page in the request's language, and an unauthenticated HTML request is sent to the login page instead.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError

from marketplace.errors import DomainError, RateLimited
from marketplace.i18n import N_, _
from marketplace.web.auth import is_api_path

log = logging.getLogger(__name__)

CSRF_FAILED = "CSRF token verification failed"  # litestar.middleware.csrf
TITLES = {
    400: N_("Bad request"),
    401: N_("Please log in"),
    402: N_("Not enough coins"),
    403: N_("Forbidden"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    429: N_("Too many requests"),
    500: N_("Something went wrong"),
}


def _json(status: int, detail: str, headers: dict[str, str] | None = None, extra: Any = None) -> Response[Any]:
    body: dict[str, Any] = {"status_code": status, "detail": str(detail), "message": _(detail)}
    if extra:
        body["extra"] = extra
    return Response(body, status_code=status, headers=headers, media_type=MediaType.JSON)


def _html(request: Request[Any, Any, Any], status: int, detail: str, headers: dict[str, str] | None = None) -> Any:
    if status == 401 and request.method == "GET":
        query = request.url.query
        return Redirect(f"/login?next={quote(request.url.path + ('?' + query if query else ''))}")
    return Template(
        template_name="errors/error.html",
        context={"status": status, "title": _(TITLES.get(status, "Error")), "detail": _(detail)},
        status_code=status,
        headers=headers,
    )


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return is_api_path(path) or path.startswith(("/payments/alipay/notify", "/schema"))


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if _wants_json(request):
        return _json(exc.status_code, exc.detail, headers)
    return _html(request, exc.status_code, exc.detail, headers)  # type: ignore[no-any-return]


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    headers = dict(exc.headers or {})
    if _wants_json(request):
        extra = exc.extra if isinstance(exc, ValidationException) else None
        return _json(exc.status_code, exc.detail, headers or None, extra)
    detail = exc.detail if exc.status_code < 500 else N_("Please try again in a moment.")
    if detail == CSRF_FAILED:  # Litestar's words; a person needs to know what to do
        detail = N_("Your session has expired or the form is out of date. Reload the page and try again.")
    return _html(request, exc.status_code, detail, headers or None)  # type: ignore[no-any-return]


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
        return _json(HTTP_500_INTERNAL_SERVER_ERROR, N_("Internal server error."))
    return _html(request, 500, N_("Please try again in a moment."))  # type: ignore[no-any-return]


def _is_data_error(exc: BaseException) -> bool:
    """An input the database cannot represent (an id beyond 64 bits, an amount that overflows BIGINT)."""
    if isinstance(exc, OverflowError):  # SQLite's driver refuses ints beyond 64 bits before sending them
        return True
    if isinstance(exc, DBAPIError):
        cause = exc.orig.__cause__ if exc.orig is not None else None
        # PostgreSQL class 22 "data exception" (asyncpg's DataError family): out-of-range values and the like.
        return getattr(cause, "sqlstate", "")[:2] == "22" or type(cause).__name__ == "DataError"
    return False


def data_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A number too large for the database is bad input (400), not a server error; anything else stays a 500."""
    if not _is_data_error(exc):
        return internal_error_handler(request, exc)
    detail = N_("A number in the request is out of range.")
    if _wants_json(request):
        return _json(400, detail)
    return _html(request, 400, detail)  # type: ignore[no-any-return]


EXCEPTION_HANDLERS: dict[Any, Any] = {
    OverflowError: data_error_handler,
    DBAPIError: data_error_handler,
    DomainError: domain_error_handler,
    HTTPException: http_exception_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
}
