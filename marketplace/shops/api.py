"""docs/api.md § Shops: plans, open, read, update, renew."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, JSONBody

from marketplace.accounts.schemas import UserRef
from marketplace.accounts.services import CurrentUser
from marketplace.db import utcnow
from marketplace.shops.deps import Shops
from marketplace.shops.models import Shop
from marketplace.shops.schemas import (
    PlanOut,
    RatingOut,
    ShopCreate,
    ShopDetailOut,
    ShopOut,
    ShopUpdate,
)
from marketplace.shops.services import ShopService, media_url
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser


async def shop_out(service: ShopService, shop: Shop, viewer: CurrentUser | None, *,
                   detail: bool = False) -> Any:
    owner = await service.owner(shop)
    fields: dict[str, Any] = {
        "id": shop.id, "slug": shop.slug, "name": shop.name, "description": shop.description, "plan": shop.plan,
        "next_plan": shop.next_plan, "status": shop.status, "paid_until": shop.paid_until,
        "period_started_at": shop.period_started_at, "auto_renew": shop.auto_renew,
        "owner": UserRef(id=owner.id, username=owner.username), "logo_url": media_url(shop.logo_key),
        "banner_url": media_url(shop.banner_key), "created_at": shop.created_at,
    }
    if service.may_see_suspended(shop, viewer):
        fields["free_listings_remaining"] = await service.free_remaining(shop, utcnow())
    if not detail:
        return ShopOut(**fields)
    r = await service.rating(shop.owner_id)
    return ShopDetailOut(**fields, listing_count=await service.listing_count(shop.id),
                         rating=RatingOut(score=r.score, positive_percent=r.positive_percent, positive=r.positive,
                                          neutral=r.neutral, negative=r.negative, count=r.count))


@get("/shop-plans", tags=["shops"], summary="The shop plans and their prices")
async def shop_plans(settings: AppSettings) -> list[PlanOut]:
    return [PlanOut.of(p) for p in settings.plans]


class ShopController(Controller):
    path = "/shops"
    tags = ["shops"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post("/", guards=[requires_login], status_code=201, summary="Open a shop, paying its first period")
    async def open_shop(self, request: Request[Any, Any, Any], data: JSONBody[ShopCreate], user: AuthUser,
                        db_session: DB, settings: AppSettings, shop_service: Shops) -> ShopOut:
        service = shop_service
        shop = await service.open_shop(user.id, name=data.name, slug=data.slug, plan=data.plan,
                                       auto_renew=data.auto_renew, description=data.description, now=utcnow())
        return await shop_out(service, shop, user)  # type: ignore[no-any-return]

    @get("/{slug:str}", summary="A shop, with its active listing count and rating")
    async def read(self, request: Request[Any, Any, Any], slug: FromPath[str], optional_user: MaybeUser, db_session: DB,
                   settings: AppSettings, shop_service: Shops) -> ShopDetailOut:
        service = shop_service
        shop = await service.visible(slug, optional_user)
        return await shop_out(service, shop, optional_user, detail=True)  # type: ignore[no-any-return]

    @patch("/{slug:str}", guards=[requires_login], summary="Change name, description, auto-renew or plan")
    async def update(self, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[ShopUpdate],
                     user: AuthUser, db_session: DB, settings: AppSettings, shop_service: Shops) -> ShopDetailOut:
        service = shop_service
        shop = await service.update(slug, user, now=utcnow(), name=data.name, description=data.description,
                                    auto_renew=data.auto_renew, plan=data.plan)
        return await shop_out(service, shop, user, detail=True)  # type: ignore[no-any-return]

    @post("/{slug:str}/renew", guards=[requires_login], status_code=200, summary="Pay one more period")
    async def renew(self, request: Request[Any, Any, Any], slug: FromPath[str], user: AuthUser, db_session: DB,
                    settings: AppSettings, shop_service: Shops) -> ShopOut:
        service = shop_service
        shop = await service.renew(slug, user, now=utcnow())
        return await shop_out(service, shop, user)  # type: ignore[no-any-return]


ROUTES = [shop_plans, ShopController]
