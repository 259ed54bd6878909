"""Membership JSON API (docs/api.md "Membership, points, coupons, PLUS": levels and points)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.rules import username_key
from marketplace.db import utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.membership import services
from marketplace.membership.schemas import (
    BadgeOut,
    ExpiringOut,
    GrowthOut,
    MembershipOut,
    PlusOut,
    PointsEntryOut,
    PointsEntryPage,
    PointsOut,
    PublicMembershipOut,
)
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser


@get("/me/membership", guards=[requires_login], tags=["membership"],
     summary="Level, progress to the next level, points (coupons, PLUS, growth and badges: defaults)")
async def my_membership(user: AuthUser, db_session: DB, settings: AppSettings) -> MembershipOut:
    now = utcnow()
    view = await services.member_view(db_session, user.id, now, settings)
    plus = await services.plus_state(db_session, user.id, now)
    return MembershipOut(
        level=view.level, effective_spend=view.effective_spend, next_level=view.next_level,
        next_level_spend=view.next_level_spend,
        plus=PlusOut(active=plus.active, until=plus.until, auto_renew=plus.auto_renew),
        points=PointsOut(available=view.points.available, frozen=view.points.frozen,
                         expiring=[ExpiringOut(points=p, expires_at=at) for p, at in view.points.expiring]),
        growth_score=GrowthOut(*await services.growth(db_session, user.id, now, settings)),
        badges=[BadgeOut(code=c, name=n) for c, n in await services.badges_of(db_session, user.id)],
        progress_percent=view.progress_percent,
        free_shipping_from=view.free_shipping_from,
    )


@get("/me/points/entries", guards=[requires_login], tags=["membership"],
     summary="Points ledger entries (available and frozen), newest first")
async def my_points_entries(user: AuthUser, db_session: DB, page: FromQuery[int] = 1,
                            per_page: FromQuery[int] = 20) -> PointsEntryPage:
    if page < 1 or not 1 <= per_page <= 100:
        raise InvalidInput("page ≥ 1 and 1 ≤ per_page ≤ 100.")
    items, total = await services.points_entries(db_session, user.id, page, per_page)
    return PointsEntryPage(
        items=[PointsEntryOut(id=e.id, account=e.account, points=e.points, kind=e.kind, ref=e.ref,
                              created_at=e.created_at, memo=e.memo) for e in items],
        total=total, page=page, per_page=per_page)


@get("/users/{username:str}/membership", tags=["membership"], summary="A member's public level")
async def public_membership(username: FromPath[str], db_session: DB, settings: AppSettings) -> PublicMembershipOut:
    user_id = await db_session.scalar(select(User.id).where(User.username_key == username_key(username)))
    if user_id is None:
        raise NotFound("User not found.")
    view = await services.member_view(db_session, user_id, utcnow(), settings)
    return PublicMembershipOut(level=view.level,
                               growth_score=GrowthOut(*await services.growth(db_session, user_id, utcnow(), settings)),
                               badges=[BadgeOut(code=c, name=n)
                                       for c, n in await services.badges_of(db_session, user_id)])


class PlusIn(msgspec.Struct, forbid_unknown_fields=False):
    auto_renew: bool = False


@post("/plus", guards=[requires_login], tags=["membership"], status_code=201,
      summary="Buy PLUS: MARKETPLACE_PLUS_PRICE coins for 365 days (402 not enough coins, 409 already active)")
async def buy_plus(data: JSONBody[PlusIn], user: AuthUser, db_session: DB, settings: AppSettings) -> PlusOut:
    state = await services.buy_plus(db_session, user.id, auto_renew=data.auto_renew, now=utcnow(),
                                    settings=settings)
    return PlusOut(active=state.active, until=state.until, auto_renew=state.auto_renew)


class BirthdayIn(msgspec.Struct, forbid_unknown_fields=False):
    month: object = None
    day: object = None


class BirthdayOut(msgspec.Struct):
    month: int
    day: int
    changeable_from: datetime


class CouponOut(msgspec.Struct):
    id: int
    kind: str
    value: int
    min_items_total: int
    valid_until: datetime
    used_at: datetime | None


@put("/me/birthday", guards=[requires_login], tags=["membership"], status_code=200,
     summary="Set the birthday (400 invalid date, 409 changed in the last 365 days)")
async def set_birthday(data: JSONBody[BirthdayIn], user: AuthUser, db_session: DB,
                       settings: AppSettings) -> BirthdayOut:
    b = await services.set_birthday(db_session, user.id, data.month, data.day, utcnow(), settings)
    return BirthdayOut(month=b.month, day=b.day, changeable_from=b.changeable_from)


@get("/me/coupons", guards=[requires_login], tags=["membership"], summary="My coupons (values in coins)")
async def my_coupons(user: AuthUser, db_session: DB) -> list[CouponOut]:
    return [CouponOut(id=c.id, kind=c.kind, value=c.value, min_items_total=c.min_items_total,
                      valid_until=c.valid_until, used_at=c.used_at)
            for c in await services.coupons_of(db_session, user.id)]


ROUTES = [my_membership, my_points_entries, public_membership, buy_plus, set_birthday, my_coupons]
