"""Order jobs: the auto-confirm sweep (docs/rules.md §7: shipped orders confirm themselves after 10 days)."""

from __future__ import annotations

from datetime import timedelta

from marketplace.jobs import JobContext, periodic
from marketplace.orders.services import auto_confirm_overdue


@periodic(every=timedelta(minutes=10))
async def auto_confirm_orders(ctx: JobContext) -> int:
    """Idempotent by construction: each order is re-checked under its row lock before it is paid out, so a
    second worker running the same cron tick, or a buyer confirming at the same moment, pays nothing twice."""
    return await auto_confirm_overdue(ctx.session_factory, ctx.settings, ctx.now())
