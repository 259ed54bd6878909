"""When PostgreSQL or Redis is unreachable: 503 with ``Retry-After``, never a 500 (issue 11 L6).

The exception handlers here turn lost connections (a Redis restart, ``pg_terminate_backend``, a failover) into
``503 Service Unavailable`` with ``Retry-After``: JSON ``{"status_code": 503, "detail"}`` on the API, a friendly
page on HTML paths. Anything else keeps its existing handler (web/errors.py). The request's transaction was never
committed, so nothing is half-applied; clients retry after the pause.

``/healthz`` (liveness: the process answers) and ``/readyz`` (readiness: the database and Redis answer) are for a
load balancer.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.response import Template
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from marketplace.i18n import _
from marketplace.web.errors import data_error_handler

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DETAIL = "The service is briefly unavailable; please try again in a few seconds."
PROBE_TIMEOUT_SECONDS = 2.0
_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT,
                   errno.EPIPE, errno.ECONNABORTED}
_CONNECTION_ERROR_NAMES = {
    "ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError", "AdminShutdownError",
    "InterfaceError", "InternalClientError", "TooManyConnectionsError", "ConnectionRejectionError",
}


def is_connection_lost(exc: BaseException) -> bool:
    """A database or Redis connection problem (as opposed to bad input or a bug)."""
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, socket.gaierror)):
        return True
    if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        cause = exc.orig.__cause__ if exc.orig is not None else None
        for candidate in (exc.orig, cause):
            if candidate is None:
                continue
            if isinstance(candidate, (ConnectionError, TimeoutError, OSError)):
                return True
            if type(candidate).__name__ in _CONNECTION_ERROR_NAMES:
                return True
            # PostgreSQL class 08 (connection exception), 57P01-03 (admin shutdown, crash, cannot connect now)
            state = str(getattr(candidate, "sqlstate", "") or "")
            if state[:2] == "08" or state in {"57P01", "57P02", "57P03"}:
                return True
    return False


def unavailable_response(request: Request[Any, Any, Any]) -> Response[Any]:
    from marketplace.web.errors import _wants_json

    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if _wants_json(request) or request.url.path in ("/healthz", "/readyz"):
        return Response({"status_code": 503, "detail": DETAIL, "message": _(DETAIL)}, status_code=503, headers=headers,
                        media_type=MediaType.JSON)
    return Template(
        template_name="errors/error.html",
        context={"status": 503, "title": _("Back in a moment"), "detail": _(DETAIL)},
        status_code=503, headers=headers,
    )


def outage_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_connection_lost(exc):
        log.warning("service unavailable on %s %s: %r", request.method, request.url.path, exc)
        return unavailable_response(request)
    return data_error_handler(request, exc)


OUTAGE_HANDLERS: dict[Any, Any] = {
    DBAPIError: outage_handler,
    RedisConnectionError: outage_handler,
    RedisTimeoutError: outage_handler,
    ConnectionError: outage_handler,
    TimeoutError: outage_handler,
    OSError: outage_handler,  # e.g. PostgreSQL refusing connections (asyncpg raises the socket error as is)
}


@get("/healthz", include_in_schema=False, sync_to_thread=False, media_type=MediaType.JSON)
def healthz() -> dict[str, str]:
    """Liveness: the process is up and serving (no dependency is checked, so a database outage does not get
    every process restarted)."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False, media_type=MediaType.JSON)
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    """Readiness: 200 when the database and Redis (if configured) answer within 2 s, else 503 naming which not."""
    state = request.app.state
    checks: dict[str, str] = {}

    async def database() -> None:
        async with state.session_factory() as db:
            await db.execute(text("SELECT 1"))

    async def redis() -> None:
        await state.redis.ping()

    probes = {"database": database()}
    if state.redis is not None:
        probes["redis"] = redis()
    for name, probe in probes.items():
        try:
            await asyncio.wait_for(probe, PROBE_TIMEOUT_SECONDS)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unavailable: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ok else "unavailable", **checks}
    return Response(body, status_code=200 if ok else 503,
                    headers=None if ok else {"Retry-After": str(RETRY_AFTER_SECONDS)})


ROUTES = [healthz, readyz]
