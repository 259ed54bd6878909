"""``marketplace cards report`` and the demo seeder's cards, on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.cards.demo import demo_card
from marketplace.cards.report import render, report
from marketplace.cards.services import CardService
from marketplace.cli import build_parser, cmd_cards
from marketplace.db import utcnow
from marketplace.settings import Settings
from marketplace.wallet.audit import audit
from tests.factories import quick_user


def test_cli_has_cards_report() -> None:
    args = build_parser().parse_args(["cards", "report"])
    assert args.func is cmd_cards
    assert render([]) == "no card batches"


async def test_report_has_a_table_per_batch(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    async with sessions() as s, s.begin():
        maker, checker, buyer = await quick_user(s), await quick_user(s), await quick_user(s)
        svc = CardService(s, settings)
        a = await svc.create_batch(maker.id, face_value=200, count=3, expires_on=utcnow().date() + timedelta(days=1))
        await svc.create_batch(maker.id, face_value=50, count=2, expires_on=utcnow().date(), note="second")
        await svc.activate(a.id, checker.id)
        rows = (await svc.export(a.id, maker.id)).splitlines()[1:]
        number, secret = rows[0].split(",")[:2]
        await svc.sell(number, checker.id, "Ms Li", 190)
        await svc.redeem(buyer.id, number, secret)
        await svc.void(rows[1].split(",")[0], checker.id)
    async with sessions() as s:
        text = await report(s, settings)
        assert (await audit(s)).ok
    first, second = text.split("\n\n")
    assert first.startswith("batch #2 · 50 coins")
    assert "note: second" in first
    assert second.startswith(f"batch #{a.id} · 200 coins")
    assert f"checker {checker.username}" in second
    lines = {line.split()[0]: line.split()[1:] for line in second.splitlines()[3:]}
    assert lines["redeemed"] == ["1", "200"]
    assert lines["void"] == ["1", "200"]
    assert lines["new"] == ["1", "200"]
    assert lines["issued"] == ["3", "600"]
    assert lines["sales"][:2] == ["1", "190"]


async def test_demo_seeds_a_redeemable_card(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    from marketplace import demo

    async with sessions() as s, s.begin():
        assert await demo.seed(s, settings)
    number, secret = demo_card()
    assert (settings.data_dir / "demo-cards.csv").read_text().splitlines()[1].startswith(f"{number},{secret},500,")
    async with sessions() as s, s.begin():
        svc = CardService(s, settings)
        card = await svc.card(number)
        batch = await svc.batch_of(card)
        assert batch.status == "activated"
        assert batch.activated_by_id != batch.created_by_id
        alice = await quick_user(s)
        done = await svc.redeem(alice.id, number, secret)
        assert done.coins == 500


async def test_number_collisions_are_replaced_not_lost(sessions: async_sessionmaker[AsyncSession],
                                                       settings: Settings) -> None:
    import random

    async with sessions() as s, s.begin():
        maker, checker, user = await quick_user(s), await quick_user(s), await quick_user(s)
        svc = CardService(s, settings)
        expires = utcnow().date() + timedelta(days=1)
        first = await svc.create_batch(maker.id, face_value=10, count=3, expires_on=expires,
                                       randbelow=random.Random(5).randrange)
        # The same seed draws the same three numbers: every one collides with the first batch.
        second = await svc.create_batch(maker.id, face_value=20, count=3, expires_on=expires,
                                        randbelow=random.Random(5).randrange)
        await svc.activate(second.id, checker.id)
        old = {line.split(",")[0] for line in (await svc.export(first.id, maker.id)).splitlines()[1:]}
        rows = [line.split(",") for line in (await svc.export(second.id, maker.id)).splitlines()[1:]]
        assert len(rows) == 3
        assert not old & {r[0] for r in rows}
        assert (await svc.summary(second.id)).issued == 3
        for number, secret, *_ in rows:
            assert (await svc.redeem(user.id, number, secret)).coins == 20
