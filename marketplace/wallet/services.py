"""Wallet use cases: balances and history, top-ups through the payment gateway, admin adjustments.

Every coin movement goes through :func:`marketplace.wallet.ledger.post`; this module decides *when* (a verified
notify, an admin's audited correction) and records *why* (kind, reference, memo, who).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import events
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.settings import Settings
from marketplace.wallet import alipay, ledger, rules
from marketplace.wallet.events import TopUpPaid
from marketplace.wallet.exceptions import InsufficientCoins, TopUpNotFound, WouldGoNegative
from marketplace.wallet.gateway import NOTIFY_PATH, gateway_for
from marketplace.wallet.models import LedgerAccount, LedgerEntry, LedgerTransaction, TopUp

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EntryView:
    id: int
    account: str  # "available" | "held"
    amount: int
    kind: str
    ref: str | None
    balance_after: int | None
    memo: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EntryPage:
    items: list[EntryView]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True, slots=True)
class CreatedTopUp:
    topup: TopUp
    pay_url: str


@dataclass(frozen=True, slots=True)
class Adjustment:
    transaction_id: int
    entry_id: int
    available: int


def amount_yuan(topup: TopUp) -> str:
    return rules.fen_to_yuan_text(topup.amount_fen)


def new_out_trade_no(now: datetime) -> str:
    """Unique merchant order number (Alipay allows 64 chars of letters, digits, underscore): time + randomness."""
    return f"TU{now:%Y%m%d%H%M%S}{secrets.token_hex(5).upper()}"


class WalletService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    # --- reading ---------------------------------------------------------------------------------------------

    async def balances(self, user_id: int) -> tuple[int, int]:
        return await ledger.wallet_balances(self.session, user_id)

    async def entries(self, user_id: int, page: int = 1, per_page: int = 20) -> EntryPage:
        """The user's available and held entries, newest first."""
        rules.check_page(page, per_page)
        # coins only: the points ledger's entries are listed by GET /me/points/entries (docs/rules.md §14)
        where = (LedgerAccount.user_id == user_id) & LedgerAccount.kind.in_(("available", "held"))
        total = await self.session.scalar(
            select(func.count(LedgerEntry.id)).join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(where)
        )
        rows = (await self.session.execute(
            select(LedgerEntry, LedgerAccount.kind, LedgerTransaction)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(where)
            .order_by(LedgerEntry.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )).all()
        items = [
            EntryView(
                id=entry.id, account=account_kind, amount=entry.amount, kind=txn.kind,
                ref=f"{txn.ref_type}:{txn.ref_id}" if txn.ref_type else None, balance_after=entry.balance_after,
                memo=txn.memo, created_at=entry.created_at,
            )
            for entry, account_kind, txn in rows
        ]
        return EntryPage(items=items, total=int(total or 0), page=page, per_page=per_page)

    async def topup_for(self, user_id: int, topup_id: int) -> TopUp:
        """A top-up of this user; someone else's is "not found" too, so ids reveal nothing."""
        topup = await self.session.get(TopUp, topup_id)
        if topup is None or topup.user_id != user_id:
            raise TopUpNotFound()
        return topup

    async def recent_topups(self, user_id: int, limit: int = 10) -> list[TopUp]:
        return list(await self.session.scalars(
            select(TopUp).where(TopUp.user_id == user_id).order_by(TopUp.id.desc()).limit(limit)
        ))

    # --- top-up ----------------------------------------------------------------------------------------------

    async def create_topup(self, user_id: int, coins: int, *, site_url: str) -> CreatedTopUp:
        """A pending top-up and the signed gateway URL to send the payer to. No coins move yet (docs/rules.md §9).

        ``site_url`` is the origin the payer is using: the return page and the sandbox page live there.
        """
        rules.check_topup_coins(coins, self.settings.topup_min_coins, self.settings.topup_max_coins)
        now = utcnow()
        config = gateway_for(self.settings)
        topup = TopUp(
            user_id=user_id, out_trade_no=new_out_trade_no(now), coins=coins,
            amount_fen=rules.coins_to_fen(coins, self.settings.coins_per_yuan), status="pending",
            gateway=config.name, created_at=now,
        )
        self.session.add(topup)
        await self.session.flush()
        return CreatedTopUp(topup=topup, pay_url=self.pay_url(topup, site_url=site_url, now=now))

    def pay_url(self, topup: TopUp, *, site_url: str, now: datetime | None = None) -> str:
        config = gateway_for(self.settings)
        site_url = site_url.rstrip("/")
        params = alipay.page_pay_params(
            app_id=config.app_id, out_trade_no=topup.out_trade_no, total_fen=topup.amount_fen,
            subject=f"币集 Coin Market: {topup.coins:,} coins", now=now or utcnow(),
            notify_url=self.settings.base_url.rstrip("/") + NOTIFY_PATH,
            return_url=f"{site_url}/wallet?topup={topup.id}", key=config.app_private_key,
        )
        return alipay.page_pay_url(config.gateway_url_for(site_url), params)

    async def handle_notify(self, form: Mapping[str, str]) -> bool:
        """Handle the gateway's asynchronous notify; True means answer ``success``.

        Credits only a verified notify (signature, app_id, known out_trade_no, matching total_amount, a paid
        trade_status), and only once: the top-up row is locked, only ``pending → paid`` credits, and the ledger
        transaction carries the idempotency key ``topup:<out_trade_no>`` — all in the caller's transaction.
        A replay of a credited notify answers ``success`` again (Alipay retries until it hears it).
        """
        config = gateway_for(self.settings)
        try:
            notice = alipay.verify_notify(form, gateway_public_key=config.gateway_public_key, app_id=config.app_id)
        except alipay.NotifyRejected as exc:
            log.warning("payment notify rejected: %s (out_trade_no=%r)", exc, form.get("out_trade_no"))
            return False
        # Lock, then decide: concurrent deliveries of the same notify queue here and see the first one's result.
        topup = await self.session.scalar(
            select(TopUp).where(TopUp.out_trade_no == notice.out_trade_no).with_for_update()
            .execution_options(populate_existing=True)
        )
        if topup is None:
            log.warning("payment notify for unknown out_trade_no %r", notice.out_trade_no)
            return False
        try:
            alipay.check_amount(notice, topup.amount_fen)
        except alipay.NotifyRejected as exc:
            log.warning("payment notify rejected for top-up %s: %s", topup.id, exc)
            return False
        if topup.status == "paid":
            return True
        if topup.status != "pending":
            # The payer cancelled, yet the gateway says paid: never credit a closed top-up silently; "fail" keeps
            # the gateway retrying and the warning tells an operator to look (docs/decisions-wallet.md).
            log.warning("payment notify for %s top-up %s (%s): not credited", topup.status, topup.id,
                        topup.out_trade_no)
            return False
        await ledger.post(
            self.session,
            kind="topup",
            legs=[ledger.Leg(ledger.platform("topup_clearing"), -topup.coins),
                  ledger.Leg(ledger.available(topup.user_id), topup.coins)],
            ref_type="topup",
            ref_id=topup.id,
            idempotency_key=f"topup:{topup.out_trade_no}",
            memo=f"{topup.gateway} trade {notice.trade_no}".strip(),
        )
        topup.status = "paid"
        topup.trade_no = notice.trade_no or None
        topup.paid_at = utcnow()
        await self.session.flush()
        await events.emit(self.session, TopUpPaid(topup.id, topup.user_id, topup.coins))
        return True

    async def close_topup(self, out_trade_no: str) -> TopUp | None:
        """The payer gave up: a pending top-up becomes ``closed`` (a paid one stays paid)."""
        topup = await self.session.scalar(
            select(TopUp).where(TopUp.out_trade_no == out_trade_no).with_for_update()
            .execution_options(populate_existing=True)
        )
        if topup is not None and topup.status == "pending":
            topup.status = "closed"
            await self.session.flush()
        return topup

    async def topup_by_trade_no(self, out_trade_no: str) -> TopUp | None:
        topup: TopUp | None = await self.session.scalar(select(TopUp).where(TopUp.out_trade_no == out_trade_no))
        return topup

    # --- admin -----------------------------------------------------------------------------------------------

    async def adjust(self, user_id: int, coins: int, reason: str, *, admin_id: int | None) -> Adjustment:
        """An admin's correction of a user's available coins, from/to the platform ``adjustments`` account.

        Audited: the transaction keeps the reason as memo and the admin as ``created_by_id``. Never takes the
        balance below zero (``WouldGoNegative``, 409).
        """
        reason = rules.check_adjustment(coins, reason)
        if await self.session.get(User, user_id) is None:
            raise NotFound("User not found.")
        try:
            txn = await ledger.post(
                self.session,
                kind="adjustment",
                legs=[ledger.Leg(ledger.platform("adjustments"), -coins), ledger.Leg(ledger.available(user_id), coins)],
                ref_type="user",
                ref_id=user_id,
                memo=reason,
                created_by_id=admin_id,
            )
        except InsufficientCoins as exc:
            raise WouldGoNegative("That would take the balance below zero (short by %(shortfall)s).",
                                  shortfall=exc.shortfall) from exc
        entry_id = await self.session.scalar(
            select(LedgerEntry.id).join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerEntry.transaction_id == txn.id, LedgerAccount.key == ledger.available(user_id).key)
        )
        available, _ = await self.balances(user_id)
        return Adjustment(transaction_id=txn.id, entry_id=int(entry_id or 0), available=available)


async def adjustment(session: AsyncSession, user_id: int, coins: int, reason: str, *,
                     admin_id: int | None = None) -> Adjustment:
    """Shortcut for :meth:`WalletService.adjust` (demo seeding, other domains' tests): needs no settings."""
    return await WalletService(session, Settings()).adjust(user_id, coins, reason, admin_id=admin_id)
