"""Demo coins: the demo's regular users start with some coins, given by an audited admin adjustment.

Wire it with ``SEEDERS.append(marketplace.wallet.demo.seed)`` in ``marketplace/demo.py``; topping up through the
sandbox gateway works without it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.settings import Settings
from marketplace.wallet.services import WalletService

DEMO_COINS = {"alice": 5_000, "bob": 5_000, "carol": 2_000}


async def seed(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    admin = users.get("admin")
    service = WalletService(session, settings)
    for username, coins in DEMO_COINS.items():
        if username in users:
            await service.adjust(users[username].id, coins, "demo starting balance",
                                 admin_id=admin.id if admin else None)
