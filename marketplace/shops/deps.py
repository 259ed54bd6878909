"""Litestar dependencies of the shops HTTP modules (provided in ``marketplace/app.py``)."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.settings import Settings
from marketplace.shops.services import ShopService

Shops = NamedDependency[ShopService]


def provide_shop_service(db_session: NamedDependency[AsyncSession], settings: NamedDependency[Settings],
                         state: State) -> ShopService:
    return ShopService(db_session, settings, state.cache)
