"""Wallet JSON API (docs/api.md, Wallet and top-up); the payment notify is in ``views.py`` (it is not under /api)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from marketplace import idempotency
from marketplace.wallet import ledger
from marketplace.wallet.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    EntryOut,
    EntryPageOut,
    MeOut,
    TopUpCreatedOut,
    TopUpIn,
    TopUpOut,
    WalletOut,
)
from marketplace.wallet.services import WalletService, amount_yuan
from marketplace.web.auth import requires_admin, requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser


def site_url(request: Request[Any, Any, Any]) -> str:
    """The site's public origin, ``MARKETPLACE_BASE_URL`` only: never the request's Host header, which a client
    chooses (it would flow into the signed return URL and make it an open redirect)."""
    return str(request.app.state.settings.base_url).rstrip("/")


class WalletController(Controller):
    path = "/wallet"
    tags = ("wallet",)
    guards = (requires_login,)

    @get("/", summary="Available and held coins")
    async def balances(self, user: AuthUser, db_session: DB, settings: AppSettings) -> WalletOut:
        available, held = await WalletService(db_session, settings).balances(user.id)
        return WalletOut(available=available, held=held)

    @get("/entries", summary="Ledger entries of the wallet, newest first")
    async def entries(self, user: AuthUser, db_session: DB, settings: AppSettings,
                      page: FromQuery[int] = 1, per_page: FromQuery[int] = 20) -> EntryPageOut:
        result = await WalletService(db_session, settings).entries(user.id, page, per_page)
        return EntryPageOut(
            items=[EntryOut(id=e.id, account=e.account, amount=e.amount, kind=e.kind, ref=e.ref,
                            balance_after=e.balance_after, created_at=e.created_at, memo=e.memo)
                   for e in result.items],
            total=result.total, page=result.page, per_page=result.per_page,
        )

    @post("/topups", status_code=201, summary="Start a top-up: a pending order and the gateway URL to pay it",
          description="An `Idempotency-Key` header makes a resubmission answer the first top-up (docs/rules.md "
                      "§19.3).")
    async def create_topup(self, request: Request[Any, Any, Any], data: JSONBody[TopUpIn], user: AuthUser,
                           db_session: DB, settings: AppSettings) -> Response[Any]:
        key = idempotency.clean_key(request.headers.get(idempotency.HEADER))

        async def work() -> tuple[int, dict[str, Any]]:
            created = await WalletService(db_session, settings).create_topup(user.id, data.coins,
                                                                              site_url=site_url(request))
            t = created.topup
            out = TopUpCreatedOut(id=t.id, out_trade_no=t.out_trade_no, coins=t.coins,
                                  amount_yuan=amount_yuan(t), status=t.status, pay_url=created.pay_url)
            return 201, msgspec.to_builtins(out)

        stored, _ = await idempotency.run_once(db_session, user_id=user.id, endpoint="topup", key=key, work=work)
        return Response(stored.response, status_code=stored.status_code, media_type=MediaType.JSON)

    @get("/topups/{topup_id:int}", summary="A top-up's status")
    async def topup(self, topup_id: FromPath[int], user: AuthUser, db_session: DB,
                    settings: AppSettings) -> TopUpOut:
        t = await WalletService(db_session, settings).topup_for(user.id, topup_id)
        return TopUpOut(id=t.id, status=t.status, coins=t.coins, out_trade_no=t.out_trade_no,
                        amount_yuan=amount_yuan(t), created_at=t.created_at, paid_at=t.paid_at)


@post("/admin/users/{user_id:int}/adjustments", status_code=201, guards=[requires_admin], tags=["admin", "wallet"],
      summary="Adjust a user's available coins (audited, never below zero)")
async def adjust_user(user_id: FromPath[int], data: JSONBody[AdjustmentIn], user: AuthUser, db_session: DB,
                      settings: AppSettings) -> AdjustmentOut:
    result = await WalletService(db_session, settings).adjust(user_id, data.coins, data.reason, admin_id=user.id)
    return AdjustmentOut(entry_id=result.entry_id, available=result.available,
                         transaction_id=result.transaction_id)


@get("/me", guards=[requires_login], tags=["accounts"], summary="The authenticated user and wallet")
async def me(user: AuthUser, db_session: DB) -> MeOut:
    available, held = await ledger.wallet_balances(db_session, user.id)
    return MeOut(id=user.id, username=user.username, email=user.email, is_admin=user.is_admin,
                 wallet=WalletOut(available=available, held=held))


ROUTES = [WalletController, adjust_user, me]
