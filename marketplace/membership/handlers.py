"""Membership's handlers of lower packages' in-transaction events (marketplace/events.py), registered by
marketplace/wiring.py: the lower packages never import membership."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import events
from marketplace.accounts.events import UserLoggedIn
from marketplace.membership import services


async def on_login(session: AsyncSession, e: UserLoggedIn) -> None:
    """A sign-in is an active day (docs/rules.md §16)."""
    await services.record_activity(session, e.user_id, e.at)


def subscribe() -> None:
    events.subscribe(UserLoggedIn, on_login)
