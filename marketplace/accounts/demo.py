"""Demo data: alice has an API token (as if a script of hers had logged in), so /account/tokens shows the expiry
and the Revoke button (issue 11)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.accounts.services import AccountService
from marketplace.settings import Settings


async def seed(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    if "alice" in users:
        await AccountService(session).issue_token(users["alice"], valid_days=settings.api_token_days)
