"""JSON API of listings, photos and fixed-price purchases (docs/api.md "Listings, bids, purchases", all but bids)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody

from marketplace.db import read_only
from marketplace.errors import InvalidInput
from marketplace.listings.deps import ListingPublished, Listings
from marketplace.listings.schemas import (
    CategoryFacetOut,
    ImageOut,
    ImagePatch,
    ListingCreate,
    ListingEditOut,
    ListingOut,
    ListingPage,
)
from marketplace.listings.serializers import image_out
from marketplace.listings.services import BrowseQuery
from marketplace.web.auth import current_user, requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401

# Above settings.max_image_bytes, so that our own check answers 413 with a clear message; Litestar's cap still
# stops anything absurd before it is read.
UPLOAD_BODY_LIMIT = 64 * 1024 * 1024


@dataclass
class ImageUpload:
    file: UploadFile


class ListingsController(Controller):
    path = "/listings"
    tags = ("listings",)

    @post("/", status_code=201, guards=[requires_login], summary="Publish a listing (fees charged)")
    async def create(self, data: JSONBody[ListingCreate], user: AuthUser, db_session: DB,
                     listing_service: Listings, listing_published: ListingPublished) -> ListingOut:
        listing = await listing_service.create(user.id, msgspec.structs.asdict(data))
        listing_published(db_session, listing)
        return await listing_service.out(listing, user.id)

    @get("/", summary="Browse and search listings")
    async def browse(
        self, request: Request[Any, Any, Any], listing_service: Listings, db_session: DB,
        category_id: FromQuery[int | None] = None, q: FromQuery[str | None] = None,
        mode: FromQuery[str | None] = None, status: FromQuery[str | None] = None,
        seller_id: FromQuery[int | None] = None, shop: FromQuery[str | None] = None,
        sort: FromQuery[str | None] = None, page: FromQuery[int] = 1, per_page: FromQuery[int] = 20,
        min_price: FromQuery[int | None] = None, max_price: FromQuery[int | None] = None,
        condition: FromQuery[str | None] = None,
    ) -> ListingPage:
        svc = listing_service
        await read_only(db_session)
        result = await svc.browse(BrowseQuery(
            category_id=category_id, q=q, mode=mode, status=status or "active", seller_id=seller_id, shop=shop,
            sort=sort, page=page, per_page=per_page, min_price=min_price, max_price=max_price, condition=condition,
            facets=True,
        ))
        viewer = current_user(request)
        items = await svc.out_many(result.items, viewer.id if viewer else None)
        return ListingPage(items=items, total=result.total, page=result.page, per_page=result.per_page,
                           total_capped=result.total_capped,
                           category_facets=[CategoryFacetOut(category_id=f.category_id, name=f.name, slug=f.slug,
                                                             path=f.path, count=f.count) for f in result.facets])

    @get("/{listing_id:int}", summary="One listing")
    async def detail(self, request: Request[Any, Any, Any], listing_id: FromPath[int], db_session: DB,
                     listing_service: Listings) -> ListingOut:
        svc = listing_service
        viewer = current_user(request)

        async def load() -> ListingOut:
            listing = await svc.get_visible(listing_id, viewer.id if viewer else None,
                                            is_admin=bool(viewer and viewer.is_admin))
            return await svc.out(listing, viewer.id if viewer else None)

        if viewer is not None:  # `you_lead` and visibility are the caller's
            return await load()
        # anonymous reads from the shared cache, keyed by what a write bumps (docs/rules.md §18)
        return await request.app.state.cache.get_or_set(  # type: ignore[no-any-return]
            f"listing-json:{listing_id}", load, depends_on=(f"listing:{listing_id}", "categories", "shops"),
            type_=ListingOut)

    @patch("/{listing_id:int}", guards=[requires_login],
           summary="Edit a listing (seller; prices only while no bids or sales; recorded in its history)")
    async def edit(self, listing_id: FromPath[int], data: JSONBody[dict[str, Any]], user: AuthUser, db_session: DB,
                   listing_service: Listings) -> ListingOut:
        """docs/api.md: any of ``title, description, category_id, condition, location`` and, while there are no
        bids or sales, ``price, plus_price, member_day, shipping_fee`` (fixed) or ``start_price, buy_now_price``
        (auction); ``photo_order`` keeps and orders photos."""
        if not isinstance(data, dict):
            raise InvalidInput("Send a JSON object.")
        listing = await listing_service.edit(listing_id, user.id, data)
        return await listing_service.out(listing, user.id)

    @get("/{listing_id:int}/edits", summary="A listing's edit history, newest first")
    async def edits(self, request: Request[Any, Any, Any], listing_id: FromPath[int], db_session: DB,
                    listing_service: Listings) -> list[ListingEditOut]:
        viewer = current_user(request)
        await listing_service.get_visible(listing_id, viewer.id if viewer else None,
                                          is_admin=bool(viewer and viewer.is_admin))
        return await listing_service.edits(listing_id)

    @delete("/{listing_id:int}", status_code=204, guards=[requires_login],
            summary="End a listing early (seller; no bids or sales)")
    async def end(self, request: Request[Any, Any, Any], listing_id: FromPath[int], user: AuthUser, db_session: DB,
                  listing_service: Listings) -> None:
        await listing_service.end_early(listing_id, user.id)

    @post("/{listing_id:int}/feature", status_code=200, guards=[requires_login],
          summary="Upgrade an active listing to featured (fee charged)")
    async def feature(self, request: Request[Any, Any, Any], listing_id: FromPath[int], user: AuthUser,
                      db_session: DB, listing_service: Listings) -> ListingOut:
        svc = listing_service
        return await svc.out(await svc.feature(listing_id, user.id), user.id)

    @post("/{listing_id:int}/images", status_code=201, guards=[requires_login],
          request_max_body_size=UPLOAD_BODY_LIMIT, summary="Add a photo (multipart field `file`)")
    async def add_image(self, request: Request[Any, Any, Any], listing_id: FromPath[int],
                        data: MultipartBody[ImageUpload], user: AuthUser, db_session: DB,
                        listing_service: Listings) -> ImageOut:
        if not isinstance(data.file, UploadFile):
            raise InvalidInput("Send the image in the multipart field `file`.")
        svc = listing_service
        image = await svc.add_image(listing_id, user.id, await data.file.read())
        return image_out(image, svc.storage)

    @patch("/{listing_id:int}/images/{image_id:int}", guards=[requires_login],
           summary="Move a photo to another position (0 = cover)")
    async def move_image(self, request: Request[Any, Any, Any], listing_id: FromPath[int], image_id: FromPath[int],
                         data: JSONBody[ImagePatch], user: AuthUser, db_session: DB,
                         listing_service: Listings) -> list[ImageOut]:
        svc = listing_service
        images = await svc.move_image(listing_id, image_id, user.id, data.position)
        return [image_out(i, svc.storage) for i in images]

    @delete("/{listing_id:int}/images/{image_id:int}", status_code=204, guards=[requires_login],
            summary="Remove a photo")
    async def delete_image(self, request: Request[Any, Any, Any], listing_id: FromPath[int],
                           image_id: FromPath[int], user: AuthUser, db_session: DB, listing_service: Listings) -> None:
        await listing_service.delete_image(listing_id, image_id, user.id)


class MemberDayOut(msgspec.Struct):
    active_today: bool
    discount_for_you: int  # percent off for the caller's level on the member day (J2 10 … J5 40; else 0)
    items: list[ListingOut]


@get("/member-day", tags=["membership"], summary="The member-day zone (docs/rules.md §15)")
async def member_day(request: Request[Any, Any, Any], listing_service: Listings) -> MemberDayOut:
    viewer = current_user(request)
    zone = await listing_service.member_day_zone(viewer.id if viewer else None)
    return MemberDayOut(**zone)


ROUTES = [ListingsController, member_day]
