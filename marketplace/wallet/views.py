"""Wallet HTML pages, the payment notify endpoint, the sandbox gateway page, and the admin ledger pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from marketplace import idempotency
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.errors import DomainError, NotFound
from marketplace.i18n import _
from marketplace.numbers import BIGINT_MAX, parse_int
from marketplace.settings import Settings
from marketplace.wallet import alipay, ledger, rules, sandbox
from marketplace.wallet.api import site_url
from marketplace.wallet.gateway import NOTIFY_PATH, SANDBOX_PATH, GatewayConfig, gateway_for
from marketplace.wallet.services import WalletService
from marketplace.web.auth import requires_admin, requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser
from marketplace.web.pages import render

Form = URLEncodedBody[dict[str, Any]]
PER_PAGE = 20
# Fields our own forms add to the sandbox page's POST; everything else is the merchant's signed request.
SANDBOX_FORM_FIELDS = ("_csrf_token", "_action")


def _form(data: dict[str, Any]) -> dict[str, str]:
    """Form values as strings (a repeated field keeps its first value)."""
    return {k: str(v[0] if isinstance(v, list) and v else v) for k, v in data.items()}


class WalletViews(Controller):
    include_in_schema = False
    guards = (requires_login,)

    @get("/wallet")
    async def wallet(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB, settings: AppSettings,
                     page: FromQuery[int] = 1, topup: FromQuery[int | None] = None) -> Template:
        return await self._page(request, user.id, db_session, settings, page=page, topup_id=topup)

    @post("/wallet/topups")
    async def start_topup(self, request: Request[Any, Any, Any], data: Form, user: AuthUser, db_session: DB,
                          settings: AppSettings) -> Template | Redirect:
        form = _form(data)
        service = WalletService(db_session, settings)

        async def work() -> tuple[int, dict[str, Any]]:
            coins = parse_int(form.get("coins"), label="Coins")
            created = await service.create_topup(user.id, coins, site_url=site_url(request))
            return 303, {"topup_id": created.topup.id}

        try:
            # docs/rules.md §19.3: a resubmitted form (same hidden key) goes on to pay the first top-up.
            key = idempotency.clean_key(form.get(idempotency.FORM_FIELD))
            stored, _ = await idempotency.run_once(db_session, user_id=user.id, endpoint="topup-form", key=key,
                                                   work=work)
            topup = await service.topup_for(user.id, int(stored.response["topup_id"]))
        except DomainError as exc:
            await db_session.rollback()
            return await self._page(request, user.id, db_session, settings, error=exc.detail,
                                    status_code=exc.status_code, coins=form.get("coins", ""))
        return Redirect(service.pay_url(topup, site_url=site_url(request)), status_code=303)

    async def _page(self, request: Request[Any, Any, Any], user_id: int, db_session: DB, settings: Settings, *,
                    page: int = 1, topup_id: int | None = None, error: str | None = None, status_code: int = 200,
                    coins: str = "") -> Template:
        service = WalletService(db_session, settings)
        available, held = await service.balances(user_id)
        entries = await service.entries(user_id, max(page, 1), PER_PAGE)
        returned = None
        if topup_id is not None:
            try:
                returned = await service.topup_for(user_id, topup_id)
            except NotFound:
                returned = None
        topups = await service.recent_topups(user_id)
        # A payer who closed the gateway tab can resume: a freshly signed URL for each still-pending top-up.
        resume = {t.id: service.pay_url(t, site_url=site_url(request)) for t in topups if t.status == "pending"}
        return await render(
            request, db_session, "wallet/index.html", status_code=status_code,
            available=available, held=held, entries=entries, topups=topups, resume=resume,
            returned=returned, error=error, coins=coins, settings=settings, idempotency_key=idempotency.new_key(),
            points=await _points(db_session, user_id),
        )


async def _points(db: Any, user_id: int) -> dict[str, Any]:
    """The member's points beside the coins (docs/rules.md §14): the balances of their two points accounts; the
    lots and their expiry are on /me/membership (the membership domain, above wallet)."""
    return {"available": await ledger.balance(db, ledger.points_available(user_id)),
            "frozen": await ledger.balance(db, ledger.points_frozen(user_id)), "expiring": []}


# --- the gateway's asynchronous notify -----------------------------------------------------------------------------


@post(NOTIFY_PATH, include_in_schema=True, tags=["wallet"], status_code=200, media_type=MediaType.TEXT,
      summary="Alipay asynchronous notify (form-encoded); answers success or fail")
async def alipay_notify(data: Form, db_session: DB, settings: AppSettings) -> Response[str]:
    ok = await WalletService(db_session, settings).handle_notify(_form(data))
    return Response("success" if ok else "fail", media_type=MediaType.TEXT, status_code=200)


# --- the sandbox gateway (plays Alipay's part in demo and test mode) -----------------------------------------------


def _sandbox_config(settings: Settings) -> GatewayConfig:
    config = gateway_for(settings)
    if not config.is_sandbox or config.app_public_key is None:
        raise NotFoundException()
    return config


async def _owned_topup(service: WalletService, out_trade_no: str, user_id: int) -> Any:
    """The top-up being paid, only for its owner: anyone else gets 404 (no free coins for strangers' orders,
    and no telling which orders exist)."""
    topup = await service.topup_by_trade_no(out_trade_no)
    if topup is None or topup.user_id != user_id:
        raise NotFound("Payment order not found.")
    return topup


class SandboxGateway(Controller):
    path = SANDBOX_PATH
    include_in_schema = False
    guards = (requires_login,)

    @get("/")
    async def pay_page(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings,
                       user: AuthUser) -> Template:
        config = _sandbox_config(settings)
        params = {k: str(v) for k, v in request.query_params.items()}
        error = None
        order = topup = None
        try:
            order = alipay.verify_page_request(params, app_public_key=config.app_public_key)  # type: ignore[arg-type]
            if order.app_id != config.app_id:
                raise alipay.RequestRejected("unknown app_id")
            topup = await _owned_topup(WalletService(db_session, settings), order.out_trade_no, user.id)
        except alipay.RequestRejected as exc:
            error = f"Invalid payment request: {exc}"
        return await render(request, db_session, "wallet/sandbox_pay.html", status_code=400 if error else 200,
                            error=error, order=order, topup=topup, params=params,
                            amount=rules.fen_to_yuan_text(order.total_fen) if order else "")

    @post("/")
    async def pay_or_cancel(self, data: Form, db_session: DB, settings: AppSettings,
                            user: AuthUser) -> Redirect | Response[str]:
        config = _sandbox_config(settings)
        form = _form(data)
        params = {k: v for k, v in form.items() if k not in SANDBOX_FORM_FIELDS}
        try:
            order = alipay.verify_page_request(params, app_public_key=config.app_public_key)  # type: ignore[arg-type]
        except alipay.RequestRejected as exc:
            return Response(f"Invalid payment request: {exc}", status_code=400, media_type=MediaType.TEXT)
        service = WalletService(db_session, settings)
        await _owned_topup(service, order.out_trade_no, user.id)
        if form.get("_action") == "pay":
            notify = sandbox.paid_notify(order, config=config, now=utcnow())
            # Through the same parsing and handling as the HTTP notify: encode as the gateway posts it, decode
            # as our form parser does, then the one verification path (signature, app_id, order, amount, status).
            await service.handle_notify(dict(parse_qsl(urlencode(notify), keep_blank_values=True)))
        else:
            await service.close_topup(order.out_trade_no)
        return Redirect(order.return_url or "/wallet", status_code=303)


# --- admin: a user's ledger and adjustments ------------------------------------------------------------------------


class AdminLedgerViews(Controller):
    path = "/admin/users"
    include_in_schema = False
    guards = (requires_admin,)

    @get("/{user_id:int}/ledger")
    async def ledger(self, request: Request[Any, Any, Any], user_id: FromPath[int], db_session: DB,
                     settings: AppSettings, page: FromQuery[int] = 1) -> Template:
        target = await db_session.get(User, user_id)
        if target is None:
            raise NotFound("User not found.")
        service = WalletService(db_session, settings)
        available, held = await service.balances(user_id)
        return await render(
            request, db_session, "admin/wallet_ledger.html", target=target, available=available, held=held,
            entries=await service.entries(user_id, max(page, 1), PER_PAGE),
            topups=await service.recent_topups(user_id, limit=20),
        )

    @post("/{user_id:int}/adjustments")
    async def adjust(self, request: Request[Any, Any, Any], user_id: FromPath[int], data: Form, user: AuthUser,
                     db_session: DB, settings: AppSettings) -> Redirect:
        form = _form(data)
        try:
            coins = parse_int(form.get("coins"), label="Coins", minimum=-BIGINT_MAX)
            result = await WalletService(db_session, settings).adjust(
                user_id, coins, form.get("reason", ""), admin_id=user.id)
        except DomainError as exc:
            flash(request, _(exc.detail), category="error")
        else:
            flash(request, _("Adjusted by %(coins)s coins; available is now %(available)s.",
                             coins=f"{coins:+,}", available=f"{result.available:,}"), category="success")
        return Redirect(f"/admin/users/{user_id}/ledger", status_code=303)


ROUTES = [WalletViews, alipay_notify, SandboxGateway, AdminLedgerViews]
