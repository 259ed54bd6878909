"""``marketplace ledger audit``: recompute the ledger from its entries and compare (docs/rules.md §8).

Checks, each reported with the ids involved:

1. every transaction has entries and they sum to zero;
2. the sum of all entries is zero;
3. every running-balance account (user available/held, order escrow): its ``balance`` equals the sum of its
   entries, and each entry's ``balance_after`` equals the running sum up to it (entries ordered by id — ids of
   one account grow in lock order, because :func:`ledger.post` inserts them while it holds the row lock);
4. no user or escrow balance is negative (stored or recomputed);
5. platform accounts keep no running balance (``balance`` 0, ``balance_after`` NULL);
6. both ledgers — coins and points (docs/rules.md §14) — balance on their own: no transaction mixes the units
   and each unit's entries sum to zero.

Tests call ``await audit(session)`` after concurrent work and assert ``report.ok``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.db import create_engine, session_factory
from marketplace.settings import Settings
from marketplace.wallet.models import PLATFORM_KINDS, POINT_KINDS, LedgerAccount, LedgerEntry, LedgerTransaction

MAX_LISTED = 50  # problems of one kind listed before "and N more"


@dataclass
class AuditReport:
    accounts: int = 0
    transactions: int = 0
    entries: int = 0
    total: int = 0
    platform_balances: dict[str, int] = field(default_factory=dict)
    user_total: int = 0
    escrow_total: int = 0
    points_total: int = 0
    user_points: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = [
            f"ledger audit: {self.accounts} accounts, {self.transactions} transactions, {self.entries} entries",
            f"  users hold     {self.user_total:>14,} coins (available + held)",
            f"  escrow holds   {self.escrow_total:>14,} coins",
        ]
        lines += [f"  platform {kind:<15}{amount:>12,}" for kind, amount in sorted(self.platform_balances.items())
                  if kind not in POINT_KINDS]
        lines.append(f"  sum of all coin entries {self.total:,}")
        lines.append(f"  users hold     {self.user_points:>14,} points (available + frozen)")
        lines += [f"  platform {kind:<15}{amount:>12,}" for kind, amount in sorted(self.platform_balances.items())
                  if kind in POINT_KINDS]
        lines.append(f"  sum of all point entries {self.points_total:,}")
        if self.ok:
            lines.append("OK: balanced — every transaction sums to zero and every balance matches its entries")
        else:
            lines.append(f"FAILED: {len(self.problems)} problem(s)")
            lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def _listed(report: AuditReport, problems: list[str]) -> None:
    report.problems.extend(problems[:MAX_LISTED])
    if len(problems) > MAX_LISTED:
        report.problems.append(f"... and {len(problems) - MAX_LISTED} more like the above")


async def audit(session: AsyncSession) -> AuditReport:
    """Recompute everything from ``ledger_entries``; read-only."""
    report = AuditReport()
    report.accounts = int(await session.scalar(select(func.count(LedgerAccount.id))) or 0)
    report.transactions = int(await session.scalar(select(func.count(LedgerTransaction.id))) or 0)
    report.entries = int(await session.scalar(select(func.count(LedgerEntry.id))) or 0)

    # 1. every transaction sums to zero, and has entries at all
    unbalanced = (await session.execute(
        select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.amount) != 0)
        .order_by(LedgerEntry.transaction_id)
    )).all()
    _listed(report, [f"transaction {tid} sums to {total:+,}, not 0" for tid, total in unbalanced])
    empty = (await session.scalars(
        select(LedgerTransaction.id)
        .where(~select(LedgerEntry.id).where(LedgerEntry.transaction_id == LedgerTransaction.id).exists())
        .order_by(LedgerTransaction.id)
    )).all()
    _listed(report, [f"transaction {tid} has no entries" for tid in empty])

    # 2. each ledger (coins, points) sums to zero, and no transaction mixes them
    is_points = LedgerAccount.kind.in_(POINT_KINDS)
    for points, label in ((False, "entries"), (True, "point entries")):
        unit_total = int(await session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(is_points if points else ~is_points)) or 0)
        if points:
            report.points_total = unit_total
        else:
            report.total = unit_total
        if unit_total != 0:
            report.problems.append(f"all {label} sum to {unit_total:+,}, not 0 ({'points' if points else 'coins'})")
    mixed = (await session.scalars(
        select(LedgerEntry.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .group_by(LedgerEntry.transaction_id)
        .having(func.count(func.distinct(is_points)) > 1)
        .order_by(LedgerEntry.transaction_id)
    )).all()
    _listed(report, [f"transaction {tid} mixes coins and points" for tid in mixed])

    # 3./4./5. per account: stored balance against the sum of its entries
    sums = (await session.execute(
        select(LedgerAccount.id, LedgerAccount.key, LedgerAccount.kind, LedgerAccount.balance,
               func.coalesce(func.sum(LedgerEntry.amount), 0))
        .outerjoin(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .group_by(LedgerAccount.id, LedgerAccount.key, LedgerAccount.kind, LedgerAccount.balance)
        .order_by(LedgerAccount.id)
    )).all()
    mismatched: list[str] = []
    negative: list[str] = []
    for _acc_id, key, kind, stored, summed in sums:
        stored, summed = int(stored), int(summed)
        if kind in PLATFORM_KINDS:
            report.platform_balances[kind] = report.platform_balances.get(kind, 0) + summed
            if stored != 0:
                mismatched.append(f"{key}: platform account stores a running balance {stored:,} (must be 0)")
            continue
        if kind == "escrow":
            report.escrow_total += summed
        elif kind in POINT_KINDS:
            report.user_points += summed
        else:
            report.user_total += summed
        if stored != summed:
            mismatched.append(f"{key}: balance {stored:,} but its entries sum to {summed:,}")
        if stored < 0 or summed < 0:
            negative.append(f"{key}: negative balance (stored {stored:,}, entries {summed:,})")
    _listed(report, mismatched)
    _listed(report, negative)

    # balance_after must replay exactly: the running sum up to each entry, per account, in id order.
    running = (
        select(
            LedgerEntry.id.label("entry_id"),
            LedgerAccount.key.label("key"),
            LedgerAccount.kind.label("kind"),
            LedgerEntry.balance_after.label("balance_after"),
            func.sum(LedgerEntry.amount).over(partition_by=LedgerEntry.account_id, order_by=LedgerEntry.id)
            .label("running"),
        )
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .subquery()
    )
    bad_history = (await session.execute(
        select(running.c.entry_id, running.c.key, running.c.kind, running.c.balance_after, running.c.running)
        .where(
            ((running.c.kind.in_(PLATFORM_KINDS)) & running.c.balance_after.is_not(None))
            | ((running.c.kind.not_in(PLATFORM_KINDS))
               & (running.c.balance_after.is_(None) | (running.c.balance_after != running.c.running)))
        )
        .order_by(running.c.entry_id)
    )).all()
    _listed(report, [
        f"entry {eid} of {key}: balance_after {after} but the running sum is {total:,}"
        for eid, key, _kind, after, total in bad_history
    ])
    return report


async def audit_database(database_url: str) -> AuditReport:
    engine = create_engine(database_url)
    try:
        # One snapshot for every query: REPEATABLE READ on PostgreSQL (SQLite's transaction already is one), so
        # a transfer committing mid-audit cannot show up in one sum and not in another.
        async with session_factory(engine)() as session:
            if engine.dialect.name == "postgresql":
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            try:
                return await audit(session)
            finally:
                await session.rollback()
    finally:
        await engine.dispose()


def run_audit_cli(settings: Settings) -> int:
    """``marketplace ledger audit``: print the report; exit status 0 when balanced, 1 otherwise."""
    report = asyncio.run(audit_database(settings.database_url))
    print(report.text())
    return 0 if report.ok else 1
