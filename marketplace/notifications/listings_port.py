"""Everything this package needs from the listings and categories domains, imported in ONE place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.categories.models import Category
from marketplace.categories.services import CategoryService
from marketplace.listings.events import ListingPublished, QuestionAnswered, QuestionAsked
from marketplace.listings.models import Listing
from marketplace.listings.search import search_condition
from marketplace.listings.services import ListingService
from marketplace.settings import Settings

__all__ = ["Category", "Listing", "ListingPublished", "QuestionAnswered", "QuestionAsked",
           "category_and_descendants", "serialize", "text_condition"]


async def serialize(session: AsyncSession, settings: Settings, listings: Sequence[Listing],
                    viewer_id: int | None) -> list[dict[str, Any]]:
    """The listing object of docs/api.md, as plain data (the listings domain's own serializer)."""
    out = await ListingService(session, settings).out_many(listings, viewer_id)
    return [msgspec.to_builtins(item) for item in out]


async def serialize_raw(session: AsyncSession, settings: Settings, listings: Sequence[Listing],
                        viewer_id: int | None) -> list[Any]:
    """The serializer's own objects (templates use attribute access, like the listing cards)."""
    return list(await ListingService(session, settings).out_many(listings, viewer_id))


def text_condition(session: AsyncSession, q: str) -> ColumnElement[bool] | None:
    bind = session.bind
    return search_condition(bind.dialect.name, q)


async def category_and_descendants(session: AsyncSession, category_id: int) -> list[int]:
    return await CategoryService(session).descendant_ids(category_id)
