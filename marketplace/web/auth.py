"""Who is asking: bearer tokens for the API, the server-side session for HTML pages.

The API authenticates only with ``Authorization: Bearer``; HTML pages only with the session cookie. Keeping the
two apart is what lets the API skip CSRF checks safely: a cookie never authenticates an API call, so a forged
cross-site request to ``/api`` carries no credentials (docs/decisions.md).
"""

from __future__ import annotations

from typing import Any, Protocol

from litestar.connection import ASGIConnection, Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from marketplace.identity import CurrentUser

SESSION_USER_KEY = "user_id"


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class UserLookup(Protocol):
    """How the middleware learns who a session or a bearer token belongs to (the accounts domain implements it,
    ``accounts/auth.py``; the composition root passes it in)."""

    async def by_session(self, user_id: int) -> CurrentUser | None: ...

    async def by_token(self, token: str) -> CurrentUser | None: ...


class AuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp, lookup: UserLookup, exclude: list[str] | None = None) -> None:
        super().__init__(app, exclude=exclude)
        self.lookup = lookup

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        user = None
        if header[:7].lower() == "bearer ":
            token = header[7:].strip()
            if token:
                user = await self.lookup.by_token(token)
            return AuthenticationResult(user=user, auth="bearer" if user else None)
        if not is_api_path(connection.url.path) and "session" in connection.scope:
            user_id = connection.session.get(SESSION_USER_KEY) if connection.session else None
            if isinstance(user_id, int):
                user = await self.lookup.by_session(user_id)
        return AuthenticationResult(user=user, auth="session" if user else None)


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    user = connection.scope.get("user")
    return user if isinstance(user, CurrentUser) else None


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if current_user(connection) is None:
        raise NotAuthorizedException("Authentication required.")


def requires_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException("Authentication required.")
    if not user.is_admin:
        raise PermissionDeniedException("Administrators only.")


async def provide_user(request: Request[Any, Any, Any]) -> CurrentUser:
    """Dependency ``user``: the authenticated user (handlers using it also carry the ``requires_login`` guard)."""
    user = current_user(request)
    if user is None:
        raise NotAuthorizedException("Authentication required.")
    return user


async def provide_optional_user(request: Request[Any, Any, Any]) -> CurrentUser | None:
    return current_user(request)
