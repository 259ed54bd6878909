"""The demo shows the Q&A and an order thread (docs/rules.md §19.5, §19.6)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace import demo
from marketplace.accounts.models import User
from marketplace.listings.models import ListingQuestion
from marketplace.orders.models import OrderMessage
from marketplace.settings import Settings


async def test_demo_seeds_a_question_and_answer_and_a_thread(settings: Settings, sessions: Any) -> None:
    async with sessions() as s, s.begin():
        assert await demo.seed(s, settings)
    async with sessions() as s:
        names = {uid: name for name, uid in (await s.execute(select(User.username, User.id))).all()}
        qs = list(await s.scalars(select(ListingQuestion).order_by(ListingQuestion.id)))
        assert [(names[q.asker_id], q.answer is not None) for q in qs] == [("bob", True), ("carol", False)]
        thread = list(await s.scalars(select(OrderMessage).order_by(OrderMessage.id)))
        assert [m.role for m in thread] == ["buyer", "seller"]
