"""The demo seeds composed blocks and one open report, and the home page shows the composed block."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from marketplace import demo
from marketplace.settings import Settings
from marketplace.site.models import Block, Report


async def test_demo_seeds_blocks_and_a_report(settings: Settings, sessions: Any, client: Any) -> None:
    async with sessions() as s, s.begin():
        assert await demo.seed(s, settings)
    async with sessions() as s:
        slots = set(await s.scalars(select(Block.slot)))
        assert "home" in slots
        assert "member_day" in slots
        assert any(slot.startswith("category:") for slot in slots)
        assert await s.scalar(select(func.count()).select_from(Report).where(Report.status == "open")) == 1
    home = await client.get("/")
    assert "Bargains under 100" in home.text
