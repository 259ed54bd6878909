"""Demo prepaid cards: an activated batch made by ``admin`` and checked by a second admin, ``auditor``, with one
card the newcomer can redeem (printed by ``marketplace demo`` and listed in the README), one sold card, and a
second batch still waiting for its checker.

The demo batch is generated from a fixed seed so its first card is always the same; real batches use
:mod:`secrets`. Its CSV (the one export) is written to ``<data_dir>/demo-cards.csv``.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.cards import rules
from marketplace.cards.services import CardService
from marketplace.db import utcnow
from marketplace.settings import Settings

DEMO_SEED = 20261201
DEMO_COUNT = 20
DEMO_FACE_VALUE = 500


def demo_random() -> random.Random:
    return random.Random(DEMO_SEED)  # noqa: S311 - a published demo card, deliberately predictable


def demo_card() -> tuple[str, str]:
    """(number, secret) of the demo's redeemable card: the first card of the seeded batch."""
    return rules.new_cards(DEMO_COUNT, demo_random().randrange)[0]


async def seed(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    admin, auditor = users.get("admin"), users.get("auditor")  # auditor: the second admin in demo.DEMO_USERS
    if admin is None or auditor is None:
        return
    svc = CardService(session, settings)
    now = utcnow()
    batch = await svc.create_batch(
        admin.id, face_value=DEMO_FACE_VALUE, count=DEMO_COUNT, expires_on=(now + timedelta(days=365)).date(),
        note="Demo: spring promotion cards", randbelow=demo_random().randrange)
    await svc.activate(batch.id, auditor.id)
    csv_text = await svc.export(batch.id, admin.id)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "demo-cards.csv").write_text(csv_text, encoding="utf-8")
    numbers = [line.split(",")[0] for line in csv_text.splitlines()[1:]]
    await svc.sell(numbers[1], admin.id, "Demo customer 王女士", 480)
    await svc.create_batch(admin.id, face_value=100, count=50, expires_on=(now + timedelta(days=180)).date(),
                           note="Demo: waiting for the checker (log in as auditor to activate)")
