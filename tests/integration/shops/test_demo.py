"""The demo seeder gives carol a paid shop with free listings, and the ledger stays balanced."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from marketplace import demo
from marketplace.listings.models import Listing
from marketplace.settings import Settings
from marketplace.shops.models import Shop


async def test_demo_seeds_carols_shop(settings: Settings, sessions: Any, client: Any) -> None:
    async with sessions() as s, s.begin():
        assert await demo.seed(s, settings)
    async with sessions() as s:
        shop = await s.scalar(select(Shop).where(Shop.slug == "carols-vintage"))
        assert shop is not None
        assert (shop.name, shop.status, shop.plan) == ("Carol's Vintage 卡罗古董店", "active", "basic")
        # Every demo listing of the shop owner (the shop's own and the catalog's) went in free, inside the quota.
        in_shop = await s.scalar(select(func.count()).select_from(Listing).where(Listing.shop_id == shop.id))
        free = await s.scalar(select(func.count()).select_from(Listing).where(
            Listing.shop_id == shop.id, Listing.free_listing.is_(True), Listing.insertion_fee == 0))
        assert in_shop == free
        assert free is not None
        assert free >= 2
        assert await s.scalar(text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entries")) == 0
    page = await client.get("/shops/carols-vintage")
    assert page.status_code == 200
    assert "Blue-and-white tea bowl" in page.text
    body = (await client.get("/api/v1/shops/carols-vintage")).json()
    assert body["listing_count"] == in_shop
