from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody

from marketplace.accounts.schemas import AccountSettings, RegisterIn, SettingsIn, TokenIn, TokenOut, UserRef
from marketplace.accounts.services import AccountService
from marketplace.accounts.throttle import LoginThrottle
from marketplace.web.auth import requires_login
from marketplace.web.clientip import client_ip as web_client_ip
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401


def login_throttle(request: Request[Any, Any, Any]) -> LoginThrottle:
    s = request.app.state.settings
    return LoginThrottle(request.app.state.rate_limiter, s.login_rate_limit, s.login_rate_window_seconds,
                         ip_limit=s.login_ip_rate_limit, max_delay_seconds=s.login_ip_max_delay_seconds)


def client_ip(request: Request[Any, Any, Any]) -> str:
    return web_client_ip(request)


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
        await throttle.attempt(data.username, client_ip(request))
        user = await AccountService(db_session).authenticate(data.username, data.password)
        await throttle.succeeded(data.username, client_ip(request))
        token = await AccountService(db_session).issue_token(user, valid_days=request.app.state.settings.api_token_days)
        return TokenOut(token=token, user=UserRef(id=user.id, username=user.username))

    @delete("/token", status_code=204, guards=[requires_login],
            summary="Revoke the bearer token this request is made with (log out of the API)")
    async def revoke(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB) -> None:
        header = request.headers.get("authorization", "")
        await AccountService(db_session).revoke_token(user.id, token=header[7:].strip(),
                                                      cache=request.app.state.get("token_cache"))


class SettingsController(Controller):
    path = "/account/settings"
    tags = ["accounts"]  # noqa: RUF012 - Litestar reads this class attribute, it is never mutated
    guards = [requires_login]  # noqa: RUF012 - as above

    @get("/", summary="My settings (the time zone my pages show times in)")
    async def read(self, user: AuthUser, db_session: DB) -> AccountSettings:
        row = await AccountService(db_session).get(user.id)
        return AccountSettings(time_zone=row.time_zone)

    @patch("/", summary="Change my settings (time_zone: an IANA name such as Asia/Shanghai)")
    async def update(self, data: JSONBody[SettingsIn], user: AuthUser, db_session: DB) -> AccountSettings:
        row = await AccountService(db_session).get(user.id)
        if data.time_zone is not None:
            row = await AccountService(db_session).set_time_zone(user.id, data.time_zone)
        return AccountSettings(time_zone=row.time_zone)


ROUTES = [AuthController, SettingsController]  # GET /me (user and wallet) is served by wallet/api.py
