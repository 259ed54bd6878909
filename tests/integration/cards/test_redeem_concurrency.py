"""Cards on real PostgreSQL with real concurrent sessions: a card credits once however many redeem it at the same
time, the lockout and the per-user throttle count exactly, one export and one activation win; the ledger audit
stays balanced after all of it (docs/rules.md §17, §8)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.cards.exceptions import (
    AlreadyExported,
    BatchStateConflict,
    CardAlreadyRedeemed,
    InvalidCard,
    TooManyCardFailures,
)
from marketplace.cards.models import CardEvent, CardRedeemFailure
from marketplace.cards.services import CardService, Redeemed
from marketplace.db import utcnow
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.audit import audit
from marketplace.wallet.models import LedgerTransaction
from tests.factories import make_user, quick_user

MAX_CONNECTIONS = 20  # docs/decisions.md Wallet 16: PostgreSQL's connections are shared with other test runs


async def _batch(sessions: async_sessionmaker[AsyncSession], settings: Settings, *, count: int = 2,
                 face_value: int = 500) -> list[tuple[str, str]]:
    """An activated, exported batch: its (number, secret) pairs."""
    async with sessions() as s, s.begin():
        maker = await quick_user(s)
        checker = await quick_user(s)
        svc = CardService(s, settings)
        batch = await svc.create_batch(maker.id, face_value=face_value, count=count,
                                       expires_on=utcnow().date() + timedelta(days=7))
        await svc.activate(batch.id, checker.id)
        text = await svc.export(batch.id, maker.id)
    return [(row["number"], row["secret"]) for row in csv.DictReader(io.StringIO(text))]


async def _users(sessions: async_sessionmaker[AsyncSession], n: int) -> list[int]:
    async with sessions() as s, s.begin():
        return [(await quick_user(s)).id for _ in range(n)]


async def _attempt(sessions: async_sessionmaker[AsyncSession], settings: Settings, gate: asyncio.Semaphore,
                   user_id: int, number: str, secret: str) -> Redeemed | str:
    """One redemption in its own session and transaction, committed like the HTTP handler does (failures too)."""
    async with gate, sessions() as s:
        try:
            async with s.begin():
                return await CardService(s, settings).redeem(user_id, number, secret)
        except InvalidCard:
            return "invalid"  # the begin() block rolled back; see _attempt_keeping_failures for the handler's path
        except CardAlreadyRedeemed:
            return "redeemed"
        except TooManyCardFailures:
            return "throttled"


async def _attempt_keeping_failures(sessions: async_sessionmaker[AsyncSession], settings: Settings,
                                    gate: asyncio.Semaphore, user_id: int, number: str, secret: str) -> str:
    async with gate, sessions() as s:
        try:
            await CardService(s, settings).redeem(user_id, number, secret)
            await s.commit()
            return "ok"
        except InvalidCard:
            await s.commit()  # what api.redeem does: the failure record outlives the 400
            return "invalid"
        except CardAlreadyRedeemed:
            await s.rollback()
            return "redeemed"
        except TooManyCardFailures:
            await s.rollback()
            return "throttled"


async def test_same_card_redeemed_by_one_user_twenty_times_at_once_credits_once(
        sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    (number, secret), _ = await _batch(sessions, settings)
    (user_id,) = await _users(sessions, 1)
    gate = asyncio.Semaphore(MAX_CONNECTIONS)
    results = await asyncio.gather(*(_attempt(sessions, settings, gate, user_id, number, secret)
                                     for _ in range(20)))
    wins = [r for r in results if isinstance(r, Redeemed)]
    assert len(wins) == 1
    assert results.count("redeemed") == 19
    async with sessions() as s:
        assert await ledger.wallet_balances(s, user_id) == (500, 0)
        assert await s.scalar(select(func.count(LedgerTransaction.id))
                              .where(LedgerTransaction.kind == "card_redeem")) == 1
        report = await audit(s)
        assert report.ok, report.text()
        assert report.platform_balances["card_float"] == -500


async def test_same_card_redeemed_by_ten_users_at_once_credits_exactly_one(
        sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    pairs = await _batch(sessions, settings, count=3, face_value=1_000)
    users = await _users(sessions, 10)
    gate = asyncio.Semaphore(MAX_CONNECTIONS)
    # Every user races for every card: 30 concurrent transactions, three cards.
    jobs = [_attempt(sessions, settings, gate, u, n, sec) for n, sec in pairs for u in users]
    results = await asyncio.gather(*jobs)
    assert sum(isinstance(r, Redeemed) for r in results) == 3
    assert results.count("redeemed") == 27
    async with sessions() as s:
        balances = [(await ledger.wallet_balances(s, u))[0] for u in users]
        assert sum(balances) == 3_000
        report = await audit(s)
        assert report.ok, report.text()
        assert report.platform_balances["card_float"] == -3_000


async def test_concurrent_wrong_secrets_lock_the_card_at_exactly_five(
        sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    (number, secret), _ = await _batch(sessions, settings)
    users = await _users(sessions, 9)
    gate = asyncio.Semaphore(MAX_CONNECTIONS)
    results = await asyncio.gather(*(_attempt_keeping_failures(sessions, settings, gate, u, number, "Z" * 16)
                                     for u in users[:8]))
    assert results == ["invalid"] * 8
    assert await _attempt_keeping_failures(sessions, settings, gate, users[8], number, secret) == "invalid"
    async with sessions() as s:
        reasons = (await s.scalars(select(CardRedeemFailure.reason).order_by(CardRedeemFailure.id))).all()
        # The card row lock serialises the attempts: exactly five wrong secrets are judged, the rest find it locked.
        assert reasons == ["wrong_secret"] * 5 + ["locked"] * 4
        assert await s.scalar(select(func.count(CardEvent.id)).where(CardEvent.action == "lock")) == 1
        assert await ledger.wallet_balances(s, users[8]) == (0, 0)


async def test_one_users_concurrent_failures_throttle_at_exactly_ten(
        sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    pairs = await _batch(sessions, settings, count=15)
    (user_id,) = await _users(sessions, 1)
    gate = asyncio.Semaphore(MAX_CONNECTIONS)
    # Wrong secrets on 15 different cards (no card lock involved): only the per-user count stops them.
    results = await asyncio.gather(*(_attempt_keeping_failures(sessions, settings, gate, user_id, n, "Y" * 16)
                                     for n, _ in pairs))
    assert results.count("invalid") == 10
    assert results.count("throttled") == 5
    number, secret = pairs[0]
    assert await _attempt_keeping_failures(sessions, settings, gate, user_id, number, secret) == "throttled"


async def test_two_exports_and_two_activations_at_once(sessions: async_sessionmaker[AsyncSession],
                                                       settings: Settings) -> None:
    async with sessions() as s, s.begin():
        maker = await make_user(s, is_admin=True)
        checkers = [await quick_user(s), await quick_user(s)]
        batch = await CardService(s, settings).create_batch(maker.id, face_value=10, count=50,
                                                             expires_on=utcnow().date())
    gate = asyncio.Semaphore(MAX_CONNECTIONS)

    async def export(admin_id: int) -> str:
        async with gate, sessions() as s:
            try:
                async with s.begin():
                    return await CardService(s, settings).export(batch.id, admin_id)
            except AlreadyExported:
                return "409"

    async def activate(admin_id: int) -> str:
        async with gate, sessions() as s:
            try:
                async with s.begin():
                    await CardService(s, settings).activate(batch.id, admin_id)
                    return "ok"
            except BatchStateConflict:
                return "409"

    exports = await asyncio.gather(export(checkers[0].id), export(checkers[1].id))
    assert sorted(len(e.splitlines()) for e in exports) == [1, 51]  # "409" is one line
    assert "409" in exports
    activations = await asyncio.gather(activate(checkers[0].id), activate(checkers[1].id))
    assert sorted(activations) == ["409", "ok"]
