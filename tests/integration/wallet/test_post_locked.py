"""``ledger.post_locked`` on PostgreSQL: points postings against a platform account and idempotency keys write the
same rows as one ``ledger.post`` each, and keep post's invariants (one unit per transaction, locked accounts only,
no balance below zero, a key written at most once)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.wallet import ledger
from marketplace.wallet.audit import audit
from marketplace.wallet.exceptions import InsufficientPoints, UnbalancedTransaction
from marketplace.wallet.models import LedgerEntry, LedgerTransaction


async def _user(s: AsyncSession, name: str) -> int:
    user = User(username=name, email=f"{name}@example.com", password_hash="!")
    s.add(user)
    await s.flush()
    return user.id


def _earn(uid: int, points: int, key: str) -> ledger.Posting:
    return ledger.Posting(kind="points_earn", ref_type="order", ref_id=1, idempotency_key=key, memo="earned",
                          legs=[ledger.Leg(ledger.platform("points_issued"), -points),
                                ledger.Leg(ledger.points_frozen(uid), points)])


async def _rows(s: AsyncSession, keys: list[str]) -> list[tuple[str | None, str, tuple[tuple[int, int | None], ...]]]:
    txns = list(await s.scalars(select(LedgerTransaction).where(LedgerTransaction.idempotency_key.in_(keys))
                                .order_by(LedgerTransaction.id)))
    out = []
    for t in txns:
        entries = await s.scalars(select(LedgerEntry).where(LedgerEntry.transaction_id == t.id)
                                  .order_by(LedgerEntry.id))
        out.append((t.idempotency_key and t.idempotency_key.split(":", 1)[1], t.kind,
                    tuple((e.amount, e.balance_after) for e in entries)))
    return out


async def test_points_postings_with_keys_write_what_post_writes(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        a, b = await _user(s, "pl_a"), await _user(s, "pl_b")
    async with sessions() as s, s.begin():  # one post per posting
        for i, points in enumerate((30, 50)):
            await ledger.post(s, kind="points_earn", ref_type="order", ref_id=1, idempotency_key=f"one:{i}",
                              memo="earned", legs=_earn(a, points, "").legs)
        await ledger.post(s, kind="points_earn", ref_type="order", ref_id=1, idempotency_key="one:0",
                          memo="earned", legs=_earn(a, 999, "").legs)  # a replay: nothing written
    async with sessions() as s, s.begin():  # the same with post_locked, including a repeated key
        locked = await ledger.lock_accounts(s, [ledger.points_frozen(b), ledger.points_available(b)])
        ids = await ledger.ensure_accounts(s, [ledger.platform("points_issued")])
        txns = await ledger.post_locked(s, [_earn(b, 30, "many:0"), _earn(b, 50, "many:1"),
                                            _earn(b, 999, "many:0")], locked, ids)
        assert txns[2] is txns[0]
    async with sessions() as s, s.begin():  # a key already recorded: skipped, its transaction returned
        locked = await ledger.lock_accounts(s, [ledger.points_frozen(b)])
        ids = await ledger.ensure_accounts(s, [ledger.platform("points_issued")])
        (again,) = await ledger.post_locked(s, [_earn(b, 999, "many:1")], locked, ids)
        assert again.idempotency_key == "many:1"
    async with sessions() as s:
        assert await _rows(s, ["one:0", "one:1"]) == await _rows(s, ["many:0", "many:1"])
        assert await ledger.balance(s, ledger.points_frozen(a)) == 80
        assert await ledger.balance(s, ledger.points_frozen(b)) == 80
        assert await s.scalar(select(func.count()).select_from(LedgerTransaction)) == 4
        assert not (await audit(s)).problems


async def test_post_locked_keeps_the_invariants(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        a = await _user(s, "inv_a")
    async with sessions() as s, s.begin():
        locked = await ledger.lock_accounts(s, [ledger.points_frozen(a), ledger.points_available(a),
                                                ledger.available(a)])
        ids = await ledger.ensure_accounts(s, [ledger.platform("points_issued")])
        with pytest.raises(UnbalancedTransaction):  # coins against points
            await ledger.post_locked(s, [ledger.Posting(kind="x", legs=[
                ledger.Leg(ledger.points_frozen(a), 5), ledger.Leg(ledger.available(a), -5)])], locked, ids)
        with pytest.raises(ValueError, match="not locked"):  # a platform account whose id was not given
            await ledger.post_locked(s, [_earn(a, 5, "k")], locked)
        with pytest.raises(ValueError, match="not locked"):  # a running-balance account not locked
            await ledger.post_locked(s, [ledger.Posting(kind="x", legs=[
                ledger.Leg(ledger.platform("points_issued"), -5), ledger.Leg(ledger.points_frozen(a + 1), 5)])],
                locked, ids)
        with pytest.raises(InsufficientPoints):  # the frozen points cannot go below zero
            await ledger.post_locked(s, [ledger.Posting(kind="x", legs=[
                ledger.Leg(ledger.points_frozen(a), -5), ledger.Leg(ledger.points_available(a), 5)])], locked, ids)
        assert await s.scalar(select(func.count()).select_from(LedgerTransaction)) == 0
