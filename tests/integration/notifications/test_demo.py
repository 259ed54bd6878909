"""The demo leaves notifications waiting for bob and carol, a watchlist and saved searches."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from marketplace import demo
from marketplace.accounts.models import User
from marketplace.notifications.models import Notification, SavedSearch, WatchlistItem
from marketplace.settings import Settings


async def test_demo_seeds_notifications(settings: Settings, sessions: Any) -> None:
    async with sessions() as s, s.begin():
        assert await demo.seed(s, settings)
    async with sessions() as s:
        ids = dict((await s.execute(select(User.username, User.id))).all())

        async def count(model: Any, uid: int) -> int:
            return int(await s.scalar(select(func.count()).select_from(model).where(model.user_id == uid)) or 0)

        assert await count(Notification, ids["bob"]) >= 2
        assert await count(Notification, ids["carol"]) >= 1
        assert await count(WatchlistItem, ids["bob"]) >= 2
        assert await count(SavedSearch, ids["bob"]) == 1
