from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import JSONBody

from marketplace.accounts.schemas import RegisterIn, TokenIn, TokenOut, UserRef
from marketplace.accounts.services import AccountService
from marketplace.accounts.throttle import LoginThrottle
from marketplace.errors import DomainError
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401


def login_throttle(request: Request[Any, Any, Any]) -> LoginThrottle:
    s = request.app.state.settings
    return LoginThrottle(request.app.state.rate_limiter, s.login_rate_limit, s.login_rate_window_seconds)


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/auth"
    tags = ["accounts"]  # noqa: RUF012 - Litestar reads this class attribute, it is never mutated

    @post("/register", status_code=201, summary="Create an account")
    async def register(self, data: JSONBody[RegisterIn], db_session: DB) -> UserRef:
        user = await AccountService(db_session).register(data.username, data.email, data.password)
        return UserRef(id=user.id, username=user.username)

    @post("/token", status_code=200, summary="Exchange username and password for a bearer token")
    async def token(self, request: Request[Any, Any, Any], data: JSONBody[TokenIn], db_session: DB) -> TokenOut:
        throttle = login_throttle(request)
        await throttle.check(data.username, client_ip(request))
        try:
            user = await AccountService(db_session).authenticate(data.username, data.password)
        except DomainError as exc:
            if exc.status_code == 401:
                await throttle.failed(data.username, client_ip(request))
            raise
        token = await AccountService(db_session).issue_token(user)
        return TokenOut(token=token, user=UserRef(id=user.id, username=user.username))


ROUTES = [AuthController]  # GET /me (user and wallet) is served by wallet/api.py
