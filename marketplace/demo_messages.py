"""Demo questions and messages (docs/rules.md §19.5, §19.6): an answered and an open question on one of alice's
listings, and a short buyer–seller thread on one of the demo orders. Runs after the other seeders (it needs
their listings and orders)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.listings import questions
from marketplace.listings.models import Listing
from marketplace.orders import messages
from marketplace.orders.models import Order
from marketplace.settings import Settings


async def seed(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    alice, bob, carol = users.get("alice"), users.get("bob"), users.get("carol")
    if alice is None or bob is None or carol is None:
        return
    listing = await session.scalar(select(Listing).where(Listing.seller_id == alice.id, Listing.status == "active")
                                   .order_by(Listing.id).limit(1))
    if listing is not None:
        asked = await questions.ask(session, listing.id, bob.id, "Is it still in the original packaging?")
        await questions.answer(session, asked.id, alice.id,
                               "Yes, the original box and papers are included. 原包装和证书都在。")
        await questions.ask(session, listing.id, carol.id, "Can you ship to Beijing by SF Express?")
    order = await session.scalar(select(Order).order_by(Order.id).limit(1))
    if order is not None:
        await messages.post_message(session, settings, order.id, order.buyer_id,
                                    "Hi! Could you pack it in bubble wrap, please? 请用气泡膜包装，谢谢。")
        await messages.post_message(session, settings, order.id, order.seller_id,
                                    "Of course — it ships tomorrow morning with tracking. 明早发货。")
