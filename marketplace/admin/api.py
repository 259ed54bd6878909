"""Admin JSON API beyond docs/api.md's table: user moderation (the same use cases as the /admin/users page)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, delete, patch
from litestar.params import FromPath, JSONBody
from msgspec import UNSET, UnsetType

from marketplace.admin.moderation import ListingModeration
from marketplace.admin.services import AdminService
from marketplace.db import utcnow
from marketplace.web.auth import requires_admin
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401


class UserModeration(msgspec.Struct):
    is_banned: bool | UnsetType = UNSET
    is_admin: bool | UnsetType = UNSET
    ban_reason: str | UnsetType = UNSET  # docs/rules.md §19.8, shown to the banned user


class ModeratedUser(msgspec.Struct):
    id: int
    username: str
    is_admin: bool
    is_banned: bool
    ban_reason: str | None = None


@patch("/admin/users/{user_id:int}", guards=[requires_admin], tags=["admin"],
       summary="Ban/unban a user or grant/revoke admin (a banned user's tokens and sessions stop working)")
async def moderate_user(request: Request[Any, Any, Any], user_id: FromPath[int], data: JSONBody[UserModeration],
                        user: AuthUser, db_session: DB, settings: AppSettings) -> ModeratedUser:
    service = AdminService(db_session, token_cache=request.app.state.get("token_cache"),
                           publisher=request.app.state.publisher, settings=settings)
    target = await service.get_user(user_id)
    if data.is_banned is not UNSET:
        reason = data.ban_reason if data.ban_reason is not UNSET else ""
        target = await service.set_banned(user.id, user_id, data.is_banned, reason)
    if data.is_admin is not UNSET:
        target = await service.set_admin(user.id, user_id, data.is_admin)
    return ModeratedUser(id=target.id, username=target.username, is_admin=target.is_admin,
                         is_banned=target.is_banned, ban_reason=target.ban_reason)


@delete("/admin/listings/{listing_id:int}", guards=[requires_admin], tags=["admin"], status_code=204,
        summary="Remove an active listing (an auction's leading hold is released)")
async def remove_listing(request: Request[Any, Any, Any], listing_id: FromPath[int], db_session: DB) -> None:
    await ListingModeration(db_session, request.app.state.publisher).remove(listing_id, utcnow())


ROUTES = [moderate_user, remove_listing]
