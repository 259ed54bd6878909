"""Membership pages: /me/membership (level, progress, points, history), /help/membership (the level table), and
the buy box data the listing page's points input uses."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.i18n import _
from marketplace.membership import rules, services
from marketplace.settings import Settings
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser
from marketplace.web.pages import render

PER_PAGE = 20


async def buy_box(db: AsyncSession, user_id: int, settings: Settings) -> dict[str, Any]:
    """What the fixed-price buy form needs for its points input and live total."""
    now = utcnow()
    view = await services.member_view(db, user_id, now, settings)
    plus = await services.is_plus(db, user_id, now)  # PLUS ships free on every order (docs/rules.md §15)
    return {"available": view.points.available, "cap": rules.POINTS_MAX_PER_ORDER, "step": rules.POINTS_STEP,
            "points_per_coin": rules.POINTS_PER_COIN, "free_shipping_from": 0 if plus else view.free_shipping_from,
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
        plus = await services.plus_state(db_session, user.id, utcnow())
        page = max(page, 1)
        entries, total = await services.points_entries(db_session, user.id, page, PER_PAGE)
        return await render(request, db_session, "membership/index.html", member=view, entries=entries,
                            total=total, page=page, pages=max(1, -(-total // PER_PAGE)), levels=level_table(),
                            window_days=settings.level_window_days,
                            freeze_days=settings.points_freeze_seconds / 86_400, plus=plus,
                            plus_price=settings.plus_price, plus_days=settings.plus_days)

    @post("/me/membership/plus", guards=[requires_login])
    async def buy_plus(self, request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, Any]],
                       user: AuthUser, db_session: DB, settings: AppSettings) -> Redirect:
        """The PLUS button: 303 back to /me/membership with a flash (402/409 as an error flash, nothing kept)."""
        try:
            state = await services.buy_plus(db_session, user.id,
                                            auto_renew=data.get("auto_renew") not in (None, "", "0", "off"),
                                            now=utcnow(), settings=settings)
        except DomainError as exc:
            if exc.status_code not in (400, 402, 409):
                raise
            await db_session.rollback()
            flash(request, exc.detail, category="error")
        else:
            assert state.until is not None
            flash(request, _("Welcome to PLUS until %(date)s.", date=f"{state.until:%Y-%m-%d}"), category="success")
        return Redirect("/me/membership", status_code=303)

    @get("/help/membership")
    async def help(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings) -> Template:
        return await render(request, db_session, "membership/help.html", levels=level_table(),
                            window_days=settings.level_window_days,
                            freeze_days=settings.points_freeze_seconds / 86_400, timezone=settings.timezone,
                            rules=rules)


ROUTES = [MembershipViews]
