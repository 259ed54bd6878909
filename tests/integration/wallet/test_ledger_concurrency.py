"""The ledger on real PostgreSQL: concurrent transfers, idempotency keys, and the audit (docs/architecture.md)."""

import asyncio
import random
import time
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.audit import audit, run_audit_cli
from marketplace.wallet.exceptions import InsufficientCoins
from marketplace.wallet.models import LedgerAccount, LedgerEntry, LedgerTransaction
from tests.factories import fund, make_user

# A web process's pool is about this big; it also keeps us well inside PostgreSQL's 100 connections while other
# test runs share the server. Every task still runs its own transaction concurrently with the others.
MAX_CONNECTIONS = 20


async def _users(sessions: async_sessionmaker[AsyncSession], n: int, coins: int) -> list[int]:
    async with sessions() as s, s.begin():
        users = [await make_user(s, coins=coins) for _ in range(n)]
        return [u.id for u in users]


async def test_100_concurrent_transfers_never_deadlock_or_go_negative(
    sessions: async_sessionmaker[AsyncSession], capsys: Any
) -> None:
    users = await _users(sessions, 4, 300)
    rng = random.Random(7)
    plan = [(*rng.sample(users, 2), rng.randint(1, 120)) for _ in range(100)]
    gate = asyncio.Semaphore(MAX_CONNECTIONS)

    async def transfer(src: int, dst: int, amount: int) -> bool:
        async with gate, sessions() as s, s.begin():
            try:
                await ledger.post(s, kind="transfer", legs=[ledger.Leg(ledger.available(src), -amount),
                                                            ledger.Leg(ledger.available(dst), amount)],
                                  ref_type="user", ref_id=dst, memo="test transfer")
            except InsufficientCoins:
                return False
            return True

    started = time.perf_counter()
    results = await asyncio.gather(*(transfer(*p) for p in plan))
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[wallet] 100 concurrent transfers among 4 users on PostgreSQL: {elapsed:.3f}s, "
              f"{100 / elapsed:.0f} transfers/s, {sum(results)} accepted, {100 - sum(results)} refused (402)")

    async with sessions() as s:
        balances = [await ledger.wallet_balances(s, uid) for uid in users]
        assert all(a >= 0 and h == 0 for a, h in balances)
        assert sum(a for a, _ in balances) == 4 * 300  # coins only moved between them
        transfers = (await s.scalars(select(LedgerTransaction).where(LedgerTransaction.kind == "transfer"))).all()
        assert len(transfers) == sum(results)
        report = await audit(s)
    assert report.ok, report.text()
    assert report.user_total == 1200


async def test_refused_post_writes_nothing(session: AsyncSession) -> None:
    user = await make_user(session, coins=10)
    with pytest.raises(InsufficientCoins) as refused:
        await ledger.post(session, kind="purchase", legs=[ledger.Leg(ledger.available(user.id), -11),
                                                          ledger.Leg(ledger.platform("revenue"), 11)],
                          idempotency_key="refused-1")
    assert refused.value.shortfall == 1
    assert refused.value.status_code == 402
    assert await ledger.wallet_balances(session, user.id) == (10, 0)
    assert await ledger.find_by_key(session, "refused-1") is None
    assert (await audit(session)).ok


async def test_idempotency_key_posts_once(session: AsyncSession) -> None:
    user = await make_user(session)
    legs = [ledger.Leg(ledger.platform("topup_clearing"), -50), ledger.Leg(ledger.available(user.id), 50)]
    first = await ledger.post(session, kind="topup", legs=legs, idempotency_key="k-1")
    again = await ledger.post(session, kind="topup", legs=legs, idempotency_key="k-1")
    assert again.id == first.id
    assert await ledger.wallet_balances(session, user.id) == (50, 0)


async def test_concurrent_posts_with_one_idempotency_key_credit_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    (uid,) = await _users(sessions, 1, 0)

    async def credit() -> int:
        async with sessions() as s, s.begin():
            txn = await ledger.post(s, kind="topup", idempotency_key="same-key",
                                    legs=[ledger.Leg(ledger.platform("topup_clearing"), -7),
                                          ledger.Leg(ledger.available(uid), 7)])
            return txn.id

    ids = await asyncio.gather(*(credit() for _ in range(10)))
    assert len(set(ids)) == 1
    async with sessions() as s:
        assert await ledger.wallet_balances(s, uid) == (7, 0)
        assert (await audit(s)).ok


async def test_balance_after_replays_even_with_two_legs_on_one_account(session: AsyncSession) -> None:
    user = await make_user(session, coins=20)
    await ledger.post(session, kind="hold", legs=[ledger.Leg(ledger.available(user.id), -15),
                                                  ledger.Leg(ledger.held(user.id), 15),
                                                  ledger.Leg(ledger.held(user.id), -5),
                                                  ledger.Leg(ledger.available(user.id), 5)])
    assert await ledger.wallet_balances(session, user.id) == (10, 10)
    report = await audit(session)
    assert report.ok, report.text()


async def test_audit_detects_tampering(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    async with sessions() as s, s.begin():
        user = await make_user(s)
        await fund(s, user.id, 100)
    assert await asyncio.to_thread(run_audit_cli, settings) == 0

    async with sessions() as s, s.begin():
        await s.execute(text("UPDATE ledger_accounts SET balance = balance + 5 WHERE user_id = :u AND kind = "
                             "'available'"), {"u": user.id})
    async with sessions() as s:
        report = await audit(s)
    assert not report.ok
    assert any("balance 105 but its entries sum to 100" in p for p in report.problems)
    assert await asyncio.to_thread(run_audit_cli, settings) == 1

    # An unbalanced transaction (an entry edited behind the ledger's back) is reported too.
    async with sessions() as s, s.begin():
        await s.execute(text("UPDATE ledger_accounts SET balance = balance - 5 WHERE user_id = :u AND kind = "
                             "'available'"), {"u": user.id})
        entry = await s.scalar(select(LedgerEntry).order_by(LedgerEntry.id.desc()).limit(1))
        assert entry is not None
        entry.amount += 1
    async with sessions() as s:
        report = await audit(s)
    assert any("sums to +1, not 0" in p for p in report.problems)
    assert any("all entries sum to +1" in p for p in report.problems)


async def test_crossing_multi_post_transactions_do_not_deadlock_with_lock_accounts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Two transactions that each make two posts on users A and B in opposite orders (the shape of an outbid on
    two auctions at once) finish when they lock both wallets first."""
    a, b = await _users(sessions, 2, 100)

    async def move(first: int, second: int) -> None:
        async with sessions() as s, s.begin():
            await ledger.lock_accounts(s, [ledger.available(first), ledger.available(second)])
            for uid in (first, second):
                await ledger.post(s, kind="hold", legs=[ledger.Leg(ledger.available(uid), -1),
                                                        ledger.Leg(ledger.held(uid), 1)])
                await asyncio.sleep(0.01)  # widen the window in which a crossing lock order would deadlock

    await asyncio.gather(*(move(a, b) if i % 2 else move(b, a) for i in range(10)))
    async with sessions() as s:
        assert await ledger.wallet_balances(s, a) == (90, 10)
        assert await ledger.wallet_balances(s, b) == (90, 10)
        assert (await audit(s)).ok


async def test_points_are_a_second_unit_checked_by_the_audit(sessions: async_sessionmaker[AsyncSession]) -> None:
    """docs/rules.md §14: one engine, two units. A post mixing coins and points is refused; the audit sums each
    unit on its own and reports a mixed transaction written behind the engine's back."""
    from marketplace.wallet.exceptions import InsufficientPoints, UnbalancedTransaction

    async with sessions() as s, s.begin():
        user = await make_user(s)
        await fund(s, user.id, 100)
        await ledger.post(s, kind="points_grant", legs=[ledger.Leg(ledger.platform("points_issued"), -500),
                                                        ledger.Leg(ledger.points_available(user.id), 500)])
        with pytest.raises(UnbalancedTransaction):
            await ledger.post(s, kind="bad", legs=[ledger.Leg(ledger.available(user.id), -10),
                                                   ledger.Leg(ledger.points_available(user.id), 10)])
        with pytest.raises(InsufficientPoints) as info:
            await ledger.post(s, kind="points_redeem", legs=[
                ledger.Leg(ledger.points_available(user.id), -550),
                ledger.Leg(ledger.platform("points_redeemed"), 550)])
        assert info.value.status_code == 409
    async with sessions() as s:
        report = await audit(s)
        assert report.ok, report.text()
        assert report.user_points == 500
        assert report.platform_balances["points_issued"] == -500
        assert "sum of all point entries 0" in report.text()

    # tamper: move one coin entry onto a points account — both units now fail to sum to zero, and it is mixed
    async with sessions() as s, s.begin():
        points_acc = await s.scalar(text("SELECT id FROM ledger_accounts WHERE kind = 'points_available' "
                                         "AND user_id = :u"), {"u": user.id})
        entry = await s.scalar(select(LedgerEntry).join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
                               .where(LedgerAccount.kind == "available", LedgerAccount.user_id == user.id))
        assert entry is not None
        entry.account_id = points_acc
    async with sessions() as s:
        report = await audit(s)
    assert any("mixes coins and points" in p for p in report.problems)
    assert any("all point entries sum to +100, not 0 (points)" in p for p in report.problems)
    assert any("all entries sum to -100, not 0 (coins)" in p for p in report.problems)
