"""Litestar dependencies of the cards HTTP modules (provided in ``marketplace/app.py``)."""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.cards.services import CardService
from marketplace.settings import Settings

Cards = NamedDependency[CardService]


def provide_card_service(db_session: NamedDependency[AsyncSession], settings: NamedDependency[Settings]) -> CardService:
    return CardService(db_session, settings)
