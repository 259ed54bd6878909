"""The one way coins move: :func:`post` writes a balanced transaction (DESIGN.md §3).

Account keys name accounts without knowing their ids: ``available(user_id)``, ``held(user_id)``,
``escrow(order_id)``, ``platform("revenue")``. Every other module (fees, holds, escrow, payouts, refunds,
top-ups, adjustments, shop plans) calls :func:`post`; nothing else writes ``ledger_*`` rows or balances.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.wallet import rules
from marketplace.wallet.exceptions import InsufficientCoins
from marketplace.wallet.models import PLATFORM_KINDS, LedgerAccount, LedgerEntry, LedgerTransaction


@dataclass(frozen=True, slots=True)
class AccountKey:
    kind: str
    user_id: int | None = None
    order_id: int | None = None

    @property
    def key(self) -> str:
        if self.kind in PLATFORM_KINDS:
            return f"platform:{self.kind}"
        if self.kind == "escrow":
            return f"order:{self.order_id}:escrow"
        return f"user:{self.user_id}:{self.kind}"

    @property
    def has_running_balance(self) -> bool:
        return self.kind not in PLATFORM_KINDS


def available(user_id: int) -> AccountKey:
    return AccountKey("available", user_id=user_id)


def held(user_id: int) -> AccountKey:
    return AccountKey("held", user_id=user_id)


def escrow(order_id: int) -> AccountKey:
    return AccountKey("escrow", order_id=order_id)


def platform(kind: str) -> AccountKey:
    if kind not in PLATFORM_KINDS:
        raise ValueError(f"unknown platform account {kind!r}")
    return AccountKey(kind)


@dataclass(frozen=True, slots=True)
class Leg:
    account: AccountKey
    amount: int


async def ensure_accounts(session: AsyncSession, keys: Sequence[AccountKey]) -> dict[AccountKey, int]:
    """Ids of the accounts, creating missing ones. Concurrent creators are harmless (ON CONFLICT DO NOTHING)."""
    wanted = {k.key: k for k in keys}
    rows = (await session.execute(select(LedgerAccount.key, LedgerAccount.id).where(
        LedgerAccount.key.in_(wanted)))).all()
    found = dict(rows)
    missing = [k for name, k in wanted.items() if name not in found]
    if missing:
        insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(LedgerAccount).values(
            [{"key": k.key, "kind": k.kind, "user_id": k.user_id, "order_id": k.order_id, "balance": 0}
             for k in missing]
        ).on_conflict_do_nothing(index_elements=["key"])
        await session.execute(stmt)
        rows = (await session.execute(select(LedgerAccount.key, LedgerAccount.id).where(
            LedgerAccount.key.in_([k.key for k in missing])))).all()
        found.update(dict(rows))
    return {k: found[k.key] for k in keys}


async def post(
    session: AsyncSession,
    *,
    kind: str,
    legs: Sequence[Leg],
    ref_type: str | None = None,
    ref_id: int | None = None,
    idempotency_key: str | None = None,
    memo: str = "",
    created_by_id: int | None = None,
) -> LedgerTransaction:
    """Write one balanced transaction and update running balances.

    Invariants kept: the legs sum to zero; no user or escrow account goes below zero (``InsufficientCoins``
    with the shortfall, nothing written); balances change only here. The running-balance rows are locked in
    ascending id order, so two transactions touching the same accounts queue instead of deadlocking.
    """
    rules.check_balanced(leg.amount for leg in legs)
    ids = await ensure_accounts(session, [leg.account for leg in legs])
    deltas: dict[int, int] = defaultdict(int)
    for leg in legs:
        deltas[ids[leg.account]] += leg.amount

    running = sorted({ids[leg.account] for leg in legs if leg.account.has_running_balance})
    accounts: dict[int, LedgerAccount] = {}
    if running:
        # Lock, then decide: the balance we check is the one we write. ORDER BY id gives the global lock order.
        locked = await session.scalars(
            select(LedgerAccount)
            .where(LedgerAccount.id.in_(running))
            .order_by(LedgerAccount.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        accounts = {a.id: a for a in locked}
        new_balances, shortfall = rules.apply_deltas(
            {a.id: a.balance for a in accounts.values()}, {i: deltas[i] for i in accounts}
        )
        if shortfall:
            raise InsufficientCoins(shortfall)
        for acc_id, balance in new_balances.items():
            accounts[acc_id].balance = balance

    txn = LedgerTransaction(
        kind=kind, ref_type=ref_type, ref_id=ref_id, idempotency_key=idempotency_key, memo=memo,
        created_by_id=created_by_id,
    )
    session.add(txn)
    await session.flush()
    for leg in legs:
        acc_id = ids[leg.account]
        session.add(LedgerEntry(
            transaction_id=txn.id,
            account_id=acc_id,
            amount=leg.amount,
            balance_after=accounts[acc_id].balance if acc_id in accounts else None,
        ))
    await session.flush()
    return txn


async def balance(session: AsyncSession, account: AccountKey) -> int:
    """Current balance: the running balance, or for platform accounts the sum of entries."""
    if account.has_running_balance:
        value = await session.scalar(select(LedgerAccount.balance).where(LedgerAccount.key == account.key))
        return int(value or 0)
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.key == account.key)
    )
    return int(total or 0)


async def wallet_balances(session: AsyncSession, user_id: int) -> tuple[int, int]:
    """(available, held) of a user."""
    rows = dict((await session.execute(
        select(LedgerAccount.kind, LedgerAccount.balance).where(LedgerAccount.user_id == user_id)
    )).all())
    return int(rows.get("available", 0)), int(rows.get("held", 0))
