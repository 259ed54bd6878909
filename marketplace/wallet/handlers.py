"""The wallet's reactions to events of the domains below it (subscribed by marketplace/wiring.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import events
from marketplace.accounts.events import UserRegistered
from marketplace.wallet import ledger


async def open_wallet(session: AsyncSession, event: UserRegistered) -> None:
    """A new user gets their two ledger accounts (available, held) in the registration's transaction."""
    await ledger.ensure_accounts(session, [ledger.available(event.user_id), ledger.held(event.user_id)])


def subscribe() -> None:
    events.subscribe(UserRegistered, open_wallet)
