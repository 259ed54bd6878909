"""HTML pages for cards: ``/cards/redeem`` for users, ``/admin/cards`` (batches, card lookup, audit log) for admins.

Every action is a CSRF-protected form POST. Admin actions answer 303 back to ``/admin/cards`` with a flash; a
refused one rolls the request's transaction back first (the redirect would otherwise commit what was flushed).
The redemption form re-renders itself with the error and the contract's status (400/409/429) on refusal.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from marketplace.cards import rules
from marketplace.cards.deps import Cards
from marketplace.cards.exceptions import InvalidCard, InvalidCardInput
from marketplace.errors import DomainError, NotFound, RateLimited
from marketplace.i18n import _
from marketplace.web.auth import requires_admin, requires_login
from marketplace.web.deps import DB, AuthUser
from marketplace.web.pages import act, render

Form = URLEncodedBody[dict[str, Any]]
ADMIN_PAGE = "/admin/cards"
CARD_REFUSALS = (400, 403, 404, 409)  # a refused admin action (the maker's 403 on activate too): an error flash
REDEEM_PAGE = "/cards/redeem"


def _form(data: dict[str, Any]) -> dict[str, str]:
    return {k: str(v[0] if isinstance(v, list) and v else v).strip() for k, v in data.items()}


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidCardInput("“%(name)s” must be a whole number.", name=name) from None


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidCardInput("The expiry date must be a date (YYYY-MM-DD).") from None


def _card_page(number: str) -> str:
    return f"{ADMIN_PAGE}?number={quote(number)}"



class RedeemViews(Controller):
    include_in_schema = False
    guards = (requires_login,)

    @get(REDEEM_PAGE)
    async def page(self, request: Request[Any, Any, Any], db_session: DB) -> Template:
        return await render(request, db_session, "cards/redeem.html", error=None, number="")

    @post(REDEEM_PAGE)
    async def redeem(self, request: Request[Any, Any, Any], data: Form, user: AuthUser, db_session: DB,
                     card_service: Cards) -> Template | Redirect:
        form = _form(data)
        try:
            done = await card_service.redeem(user.id, form.get("number", ""), form.get("secret", ""))
        except DomainError as exc:
            if isinstance(exc, InvalidCard):
                await db_session.commit()  # keep the failure record (lockout and throttle) despite the 400
            template = await render(request, db_session, "cards/redeem.html", status_code=exc.status_code,
                                    error=exc.detail, number=form.get("number", ""))
            if isinstance(exc, RateLimited):
                template.headers["Retry-After"] = str(exc.retry_after)
            return template
        flash(request, _("%(coins)s coins were added to your wallet (card …%(card)s). Available: %(available)s coins.",
                         coins=f"{done.coins:,}", card=done.card.number[-4:], available=f"{done.available:,}"),
              category="success")
        return Redirect(REDEEM_PAGE, status_code=303)


class CardAdminViews(Controller):
    path = ADMIN_PAGE
    guards = (requires_admin,)
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any], db_session: DB, card_service: Cards,
                    user: AuthUser, number: FromQuery[str | None] = None,
                    batch: FromQuery[int | None] = None) -> Template:
        card = card_batch = None
        lookup_error = None
        if number:
            try:
                card = await card_service.card(number)
                card_batch = await card_service.batch_of(card)
            except NotFound:
                lookup_error = "No card with that number."
        events = await card_service.events(card_id=card.id if card else None, batch_id=batch, limit=100)
        return await render(
            request, db_session, "admin/cards.html", summaries=await card_service.list_batches(), card=card,
            card_batch=card_batch, number=number or "", lookup_error=lookup_error, events=events,
            batch_filter=batch, me=user.id, format_number=rules.format_number,
            limits={"min_face": rules.MIN_FACE_VALUE, "max_face": rules.MAX_FACE_VALUE,
                    "max_count": rules.MAX_COUNT},
        )

    @post("/batches")
    async def create_batch(self, request: Request[Any, Any, Any], data: Form, user: AuthUser, db_session: DB,
                           card_service: Cards) -> Redirect:
        form = _form(data)

        async def create() -> str:
            b = await card_service.create_batch(
                user.id, face_value=_int(form.get("face_value", ""), "face value"),
                count=_int(form.get("count", ""), "count"), expires_on=_date(form.get("expires_on", "")),
                note=form.get("note", ""))
            return _("Batch #%(id)s created: %(count)s cards of %(face_value)s coins. Another admin must activate it.",
                     id=b.id, count=f"{b.count:,}", face_value=f"{b.face_value:,}")

        return await act(request, db_session, ADMIN_PAGE, create, refusals=CARD_REFUSALS)

    @post("/batches/{batch_id:int}/activate")
    async def activate(self, request: Request[Any, Any, Any], batch_id: FromPath[int], user: AuthUser,
                       db_session: DB, card_service: Cards) -> Redirect:
        async def activate() -> str:
            await card_service.activate(batch_id, user.id)
            return f"Batch #{batch_id} activated."

        return await act(request, db_session, ADMIN_PAGE, activate, refusals=CARD_REFUSALS)

    @post("/batches/{batch_id:int}/export")
    async def export(self, request: Request[Any, Any, Any], batch_id: FromPath[int], user: AuthUser,
                     db_session: DB, card_service: Cards) -> Response[str] | Redirect:
        """A POST (with the CSRF token), not a link: the export changes state, it wipes the secrets."""
        try:
            body = await card_service.export(batch_id, user.id)
        except DomainError as exc:
            if exc.status_code not in (404, 409):
                raise
            await db_session.rollback()
            flash(request, _(exc.detail), category="error")
            return Redirect(ADMIN_PAGE, status_code=303)
        return Response(body, status_code=200, media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="card-batch-{batch_id}.csv"',
            "Cache-Control": "no-store",
        })

    @post("/{number:str}/sell")
    async def sell(self, request: Request[Any, Any, Any], number: FromPath[str], data: Form, user: AuthUser,
                   db_session: DB, card_service: Cards) -> Redirect:
        form = _form(data)

        async def sell() -> str:
            card = await card_service.sell(number, user.id, form.get("buyer", ""),
                                           _int(form.get("price", ""), "price"))
            return _("Card %(number)s sold to %(buyer)s.", number=card.number, buyer=card.sold_to)

        return await act(request, db_session, _card_page(number), sell, refusals=CARD_REFUSALS)

    @post("/{number:str}/void")
    async def void(self, request: Request[Any, Any, Any], number: FromPath[str], user: AuthUser, db_session: DB,
                   card_service: Cards) -> Redirect:
        async def void() -> str:
            card = await card_service.void(number, user.id)
            return _("Card %(number)s voided.", number=card.number)

        return await act(request, db_session, _card_page(number), void, refusals=CARD_REFUSALS)

    @post("/{number:str}/refund")
    async def refund(self, request: Request[Any, Any, Any], number: FromPath[str], user: AuthUser, db_session: DB,
                     card_service: Cards) -> Redirect:
        async def refund() -> str:
            card = await card_service.refund(number, user.id)
            return _("Card %(number)s refunded and retired.", number=card.number)

        return await act(request, db_session, _card_page(number), refund, refusals=CARD_REFUSALS)

    @post("/{number:str}/exchange")
    async def exchange(self, request: Request[Any, Any, Any], number: FromPath[str], user: AuthUser,
                       db_session: DB, card_service: Cards) -> Redirect:
        back = _card_page(number)

        async def exchange() -> str:
            nonlocal back
            done = await card_service.exchange(number, user.id)
            back = _card_page(done.new.number)
            # Shown this once (the flash lives in the server-side session until this page displays it).
            return _("Card %(old)s exchanged for %(new)s — secret %(secret)s (shown only now; hand it to the "
                     "customer).", old=done.old.number, new=done.new.number, secret=done.secret)

        return await act(request, db_session, lambda: back, exchange, refusals=CARD_REFUSALS)


ROUTES = [RedeemViews, CardAdminViews]
