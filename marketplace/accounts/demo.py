"""Demo data: alice has an API token (as if a script of hers had logged in), so /account/tokens shows the expiry
and the Revoke button (issue 11); 张三 has a Chinese username and bob reads times in Berlin time (issue 19)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.accounts.services import AccountService
from marketplace.settings import Settings

DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 - marketplace/demo.py's published password (demo.py imports this module)


async def seed(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    accounts = AccountService(session)
    if "alice" in users:
        await accounts.issue_token(users["alice"], valid_days=settings.api_token_days)
    if "bob" in users:
        await accounts.set_time_zone(users["bob"].id, "Europe/Berlin")
    users["张三"] = await accounts.register("张三", "zhangsan@example.com", DEMO_PASSWORD)
