"""Top-up notifies on real PostgreSQL: concurrent replays credit exactly once; forgeries never credit."""

import asyncio
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.db import create_engine, session_factory
from marketplace.settings import Settings
from marketplace.wallet import alipay, ledger
from marketplace.wallet.audit import audit
from marketplace.wallet.gateway import gateway_for
from marketplace.wallet.models import LedgerTransaction, TopUp
from marketplace.wallet.services import WalletService
from tests.factories import make_user


def paid_notify(settings: Settings, topup: TopUp, **overrides: str) -> dict[str, str]:
    """What the gateway posts for a paid top-up, signed with the sandbox gateway's key."""
    params = {
        "notify_type": "trade_status_sync", "notify_id": "n1", "notify_time": "2026-11-25 18:00:00",
        "charset": "utf-8", "version": "1.0", "app_id": settings.alipay_app_id, "out_trade_no": topup.out_trade_no,
        "trade_no": "2026112522001400000001", "trade_status": "TRADE_SUCCESS",
        "total_amount": alipay.rules.fen_to_yuan_text(topup.amount_fen),
    }
    params.update(overrides)
    key = gateway_for(settings).gateway_private_key
    assert key is not None
    return alipay.sign_notify(params, key)


async def _pending_topup(sessions: async_sessionmaker[AsyncSession], settings: Settings, coins: int) -> TopUp:
    async with sessions() as s, s.begin():
        user = await make_user(s)
        created = await WalletService(s, settings).create_topup(user.id, coins, site_url="http://testserver")
        return created.topup


async def test_50_concurrent_replays_credit_exactly_once(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, pg_url: str, capsys: Any
) -> None:
    topup = await _pending_topup(sessions, settings, 100)
    form = paid_notify(settings, topup)
    # Own engine with a bounded pool (shared PostgreSQL server); 50 tasks race for 20 connections and the row lock.
    engine = create_engine(pg_url, pool_size=20, max_overflow=0)
    replay_sessions = session_factory(engine)

    async def deliver() -> bool:
        async with replay_sessions() as s, s.begin():
            return await WalletService(s, settings).handle_notify(form)

    try:
        started = time.perf_counter()
        answers = await asyncio.gather(*(deliver() for _ in range(50)))
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    with capsys.disabled():
        print(f"\n[wallet] 50 concurrent replays of one notify: {elapsed:.3f}s, all answered success="
              f"{all(answers)}, credited once")

    assert all(answers)  # every replay answers "success"
    async with sessions() as s:
        assert await ledger.wallet_balances(s, topup.user_id) == (100, 0)
        row = await s.get(TopUp, topup.id)
        assert row is not None
        assert row.status == "paid"
        assert row.paid_at is not None
        assert row.trade_no == "2026112522001400000001"
        count = await s.scalar(select(func.count()).select_from(LedgerTransaction)
                               .where(LedgerTransaction.kind == "topup"))
        assert count == 1
        report = await audit(s)
    assert report.ok, report.text()
    assert report.platform_balances["topup_clearing"] == -100


async def test_forged_and_mismatched_notifies_never_credit(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    topup = await _pending_topup(sessions, settings, 50)
    good = paid_notify(settings, topup)
    forged_amount = {**good, "total_amount": "500.00"}
    other_key = alipay.sign_notify({k: v for k, v in good.items() if k != "sign"}, alipay.generate_key())
    bad = [
        forged_amount,  # signature no longer matches
        other_key,  # signed by somebody else
        paid_notify(settings, topup, total_amount="0.50"),  # signed, but not what the order costs
        paid_notify(settings, topup, trade_status="WAIT_BUYER_PAY"),
        paid_notify(settings, topup, app_id="2021000000009999"),
        paid_notify(settings, topup, out_trade_no="TU-does-not-exist"),
        {k: v for k, v in good.items() if k != "sign"},
    ]
    for form in bad:
        async with sessions() as s, s.begin():
            assert await WalletService(s, settings).handle_notify(form) is False
    async with sessions() as s:
        assert await ledger.wallet_balances(s, topup.user_id) == (0, 0)
        row = await s.get(TopUp, topup.id)
        assert row is not None
        assert row.status == "pending"


async def test_a_closed_topup_is_not_credited(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    topup = await _pending_topup(sessions, settings, 20)
    async with sessions() as s, s.begin():
        closed = await WalletService(s, settings).close_topup(topup.out_trade_no)
        assert closed is not None
        assert closed.status == "closed"
    async with sessions() as s, s.begin():
        assert await WalletService(s, settings).handle_notify(paid_notify(settings, topup)) is False
    async with sessions() as s:
        assert await ledger.wallet_balances(s, topup.user_id) == (0, 0)
