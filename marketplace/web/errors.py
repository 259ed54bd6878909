"""The one table that turns exceptions into responses (docs/architecture.md).

API paths answer Litestar's JSON error format ``{"status_code", "detail"}``; HTML paths render an error page,
and an unauthenticated HTML request is sent to the login page instead.
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
from marketplace.web.auth import is_api_path

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Please log in",
    402: "Not enough coins",
    403: "Forbidden",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
}


def _json(status: int, detail: str, headers: dict[str, str] | None = None, extra: Any = None) -> Response[Any]:
    body: dict[str, Any] = {"status_code": status, "detail": detail}
    if extra:
        body["extra"] = extra
    return Response(body, status_code=status, headers=headers, media_type=MediaType.JSON)


def _html(request: Request[Any, Any, Any], status: int, detail: str, headers: dict[str, str] | None = None) -> Any:
    if status == 401 and request.method == "GET":
        query = request.url.query
        return Redirect(f"/login?next={quote(request.url.path + ('?' + query if query else ''))}")
    return Template(
        template_name="errors/error.html",
        context={"status": status, "title": TITLES.get(status, "Error"), "detail": detail},
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
    detail = exc.detail if exc.status_code < 500 else "Please try again in a moment."
    return _html(request, exc.status_code, detail, headers or None)  # type: ignore[no-any-return]


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
        return _json(HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error.")
    return _html(request, 500, "Please try again in a moment.")  # type: ignore[no-any-return]


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
    detail = "A number in the request is out of range."
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
