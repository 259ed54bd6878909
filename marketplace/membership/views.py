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
from marketplace.i18n import N_, Text, _
from marketplace.membership import rules, services
from marketplace.numbers import parse_int
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
        spend: str  # a message the page translates
        if level.code == "registered":
            spend = N_("no completed order in the window")
        elif level.max_spend is None:
            spend = Text(N_("over %(amount)s"), {"amount": f"{level.min_spend - 1:,}"})
        else:
            spend = f"{level.min_spend:,} – {level.max_spend:,}"
        rows.append({"code": level.code, "spend": spend, "free_shipping": level.free_shipping_coins,
                     "birthday": level.birthday_coupon_yuan, "member_day": level.member_day_percent})
    return rows


async def _page(request: Request[Any, Any, Any], db: AsyncSession, user_id: int, settings: Settings, page: int,
                *, status_code: int = 200, **extra: Any) -> Template:
    now = utcnow()
    view = await services.member_view(db, user_id, now, settings)
    plus = await services.plus_state(db, user_id, now)
    page = max(page, 1)
    entries, total = await services.points_entries(db, user_id, page, PER_PAGE)
    birthday = await services.get_birthday(db, user_id)
    context: dict[str, Any] = {
        "birthday": birthday, "birthday_error": None, "birthday_locked": birthday is not None
        and birthday.changeable_from > now, "coupons": await services.coupons_of(db, user_id), "now": now,
        "birthday_form": {"month": str(birthday.month) if birthday else "", "day": str(birthday.day) if birthday
                          else ""},
    }
    context.update(extra)
    return await render(request, db, "membership/index.html", status_code=status_code, member=view,
                        entries=entries, total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
                        levels=level_table(), window_days=settings.level_window_days,
                        freeze_days=settings.points_freeze_seconds / 86_400, plus=plus,
                        plus_price=settings.plus_price, plus_days=settings.plus_days, **context)


class MembershipViews(Controller):
    include_in_schema = False

    @get("/me/membership", guards=[requires_login])
    async def page(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB, settings: AppSettings,
                   page: FromQuery[int] = 1) -> Template:
        return await _page(request, db_session, user.id, settings, page)

    @post("/me/membership/birthday", guards=[requires_login])
    async def birthday(self, request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, Any]], user: AuthUser,
                       db_session: DB, settings: AppSettings) -> Template | Redirect:
        """The birthday form (docs/rules.md §15): 303 with a flash when saved; the page again with the form's error
        and 400 (not a date) or 409 (changed within 365 days), nothing written."""
        form = {"month": str(data.get("month") or ""), "day": str(data.get("day") or "")}
        try:
            month = parse_int(form["month"], label=_("Month"))
            day = parse_int(form["day"], label=_("Day"))
            before = len(await services.coupons_of(db_session, user.id))
            b = await services.set_birthday(db_session, user.id, month, day, utcnow(), settings)
        except DomainError as exc:
            if exc.status_code not in (400, 409):
                raise
            await db_session.rollback()
            return await _page(request, db_session, user.id, settings, 1, birthday_error=exc.detail,
                               birthday_form=form, status_code=exc.status_code)
        message = _("Birthday saved: %(month)s/%(day)s.", month=b.month, day=b.day)
        if len(await services.coupons_of(db_session, user.id)) > before:
            message += " " + _("It is your birthday month: your coupon is waiting at checkout.")
        flash(request, message, category="success")
        return Redirect("/me/membership#birthday", status_code=303)

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
            flash(request, _(exc.detail), category="error")
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
