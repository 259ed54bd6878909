"""Membership pages: /me/membership (level, progress, points, history), /help/membership (the level table), and
the buy box data the listing page's points input uses."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.db import utcnow
from marketplace.membership import rules, services
from marketplace.settings import Settings
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser
from marketplace.web.pages import render

PER_PAGE = 20


async def buy_box(db: AsyncSession, user_id: int, settings: Settings) -> dict[str, Any]:
    """What the fixed-price buy form needs for its points input and live total."""
    view = await services.member_view(db, user_id, utcnow(), settings)
    return {"available": view.points.available, "cap": rules.POINTS_MAX_PER_ORDER, "step": rules.POINTS_STEP,
            "points_per_coin": rules.POINTS_PER_COIN, "free_shipping_from": view.free_shipping_from,
            "level": view.level}


def level_table() -> list[dict[str, Any]]:
    rows = []
    for level in rules.LEVELS:
        if level.code == "registered":
            spend = "no completed order in the window"
        elif level.max_spend is None:
            spend = f"over {level.min_spend - 1:,}"
        else:
            spend = f"{level.min_spend:,} – {level.max_spend:,}"
        rows.append({"code": level.code, "spend": spend, "free_shipping": level.free_shipping_coins,
                     "birthday": level.birthday_coupon_yuan, "member_day": level.member_day_percent})
    return rows


class MembershipViews(Controller):
    include_in_schema = False

    @get("/me/membership", guards=[requires_login])
    async def page(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB, settings: AppSettings,
                   page: FromQuery[int] = 1) -> Template:
        view = await services.member_view(db_session, user.id, utcnow(), settings)
        page = max(page, 1)
        entries, total = await services.points_entries(db_session, user.id, page, PER_PAGE)
        return await render(request, db_session, "membership/index.html", member=view, entries=entries,
                            total=total, page=page, pages=max(1, -(-total // PER_PAGE)), levels=level_table(),
                            window_days=settings.level_window_days,
                            freeze_days=settings.points_freeze_seconds / 86_400)

    @get("/help/membership")
    async def help(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings) -> Template:
        return await render(request, db_session, "membership/help.html", levels=level_table(),
                            window_days=settings.level_window_days,
                            freeze_days=settings.points_freeze_seconds / 86_400, timezone=settings.timezone,
                            rules=rules)


ROUTES = [MembershipViews]
