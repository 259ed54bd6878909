"""Shop use cases. The Shops issue completes this module; :func:`listing_terms` is used by the sell flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.catalog.models import Listing
from marketplace.settings import Settings
from marketplace.shops.models import Shop


@dataclass(frozen=True, slots=True)
class ListingTerms:
    """What a seller's next listing costs and may carry."""

    shop_id: int | None
    free: bool  # within the shop's free-listing quota: no insertion fee
    free_remaining: int
    max_images: int
    can_list: bool  # False while the seller's shop is in grace or suspended
    reason: str = ""


async def listing_terms(session: AsyncSession, seller_id: int, now: datetime, settings: Settings,
                        *, lock: bool = False) -> ListingTerms:
    """Terms for the seller's next listing. With ``lock=True`` the shop row is locked so that two listings
    published at once cannot both take the last free slot."""
    stmt = select(Shop).where(Shop.owner_id == seller_id)
    if lock:
        stmt = stmt.with_for_update()
    shop = await session.scalar(stmt)
    if shop is None:
        return ListingTerms(shop_id=None, free=False, free_remaining=0, max_images=settings.max_images_no_shop,
                            can_list=True)
    plan = settings.plan(shop.plan)
    if plan is None or shop.status != "active":
        return ListingTerms(shop_id=shop.id, free=False, free_remaining=0,
                            max_images=plan.max_images if plan else settings.max_images_no_shop, can_list=False,
                            reason="Your shop is not active: renew it to publish new listings.")
    used = await session.scalar(
        select(func.count()).select_from(Listing).where(
            Listing.shop_id == shop.id, Listing.free_listing.is_(True), Listing.created_at >= shop.period_started_at
        )
    )
    remaining = max(0, plan.free_listings - int(used or 0))
    return ListingTerms(shop_id=shop.id, free=remaining > 0, free_remaining=remaining, max_images=plan.max_images,
                        can_list=True)
