"""Real data for previewing a template override without publishing it (docs/rules.md §18)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.categories.models import Category
from marketplace.errors import InvalidInput
from marketplace.listings.models import Listing
from marketplace.settings import Settings
from marketplace.shops.models import Shop
from marketplace.shops.services import SORTS, ShopService, media_url
from marketplace.site.blocks import BlockService
from marketplace.site.browse import BrowseQuery, ListingService
from marketplace.site.templates import TEMPLATE_FILES
from marketplace.web.pages import render

# base, header, footer and the card show inside the home page
PAGE_OF = {"category": "catalog/category.html", "listing": "catalog/listing.html", "shop": "shops/shop.html"}


async def preview_page(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings,
                       name: str) -> tuple[str, dict[str, Any]]:
    """The page file that shows template ``name`` and its context, built from the newest real data."""
    page = PAGE_OF.get(name, TEMPLATE_FILES["home"])
    context: dict[str, Any]
    listings = ListingService(db, settings)
    if name == "listing":
        row = await db.scalar(select(Listing).where(Listing.status == "active").order_by(Listing.id.desc()))
        if row is None:
            raise InvalidInput("There is no active listing to preview with.")
        context = {"listing": await listings.out(row, None), "listing_row": row, "error": None,
                   "breadcrumbs": await listings.breadcrumbs(row.category_id), "is_seller": False, "can_end": False,
                   "can_feature": False, "has_auction_box": False, "questions": []}
    elif name == "category":
        category = await db.scalar(select(Category).where(Category.parent_id.is_(None), Category.hidden.is_(False))
                                   .order_by(Category.position, Category.id))
        if category is None:
            raise InvalidInput("There is no category to preview with.")
        result = await listings.browse(BrowseQuery(category_id=category.id, per_page=24, featured_first=True))
        context = {"category": category, "children": [], "breadcrumbs": await listings.breadcrumbs(category.id),
                   "filters": {}, "result": result, "items": await listings.out_many(result.items, None),
                   "base_url": f"/c/{category.slug}?", "action": f"/c/{category.slug}",
                   "site_blocks": await BlockService(db, settings).render_slot(f"category:{category.id}")}
    elif name == "shop":
        shop = await db.scalar(select(Shop).where(Shop.status != "suspended").order_by(Shop.id))
        if shop is None:
            raise InvalidInput("There is no shop to preview with.")
        service = ShopService(db, settings, request.app.state.cache)
        cards, total = await service.shop_listings(shop, mode=None, sort="newest", page=1, per_page=24)
        context = {"shop": shop, "owner": await service.owner(shop), "listings": cards, "total": total, "page": 1,
                   "per_page": 24, "mode": None, "sort": "newest", "sorts": SORTS, "base_url": f"/shops/{shop.slug}",
                   "rating": await service.rating(shop.owner_id), "logo_url": media_url(shop.logo_key),
                   "banner_url": media_url(shop.banner_key), "is_owner": False}
    else:
        context = {"blocks": await BlockService(db, settings).render_slot("home")}
    template: Template = await render(request, db, page, **context)
    return page, template.create_template_context(request)
