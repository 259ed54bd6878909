"""HTML pages: the public shop page and the owner's /shop/manage (open, edit, images, plan, renew)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, MediaType, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, MultipartBody, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.i18n import N_, _
from marketplace.identity import CurrentUser
from marketplace.media.images import in_decoder
from marketplace.shops import images, rules
from marketplace.shops.deps import Shops
from marketplace.shops.exceptions import InvalidImage
from marketplace.shops.services import MODES, SORTS, ShopService, media_url, subscription
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser
from marketplace.web.pagecache import cached_page
from marketplace.web.pages import render

Form = URLEncodedBody[dict[str, Any]]
Upload = MultipartBody[dict[str, Any]]
PER_PAGE = 24
MANAGE = "/shop/manage"


def _checked(form: dict[str, Any], name: str) -> bool:
    return str(form.get(name, "")).lower() in {"1", "on", "true", "yes"}


def _fail(request: Request[Any, Any, Any], exc: DomainError) -> Redirect:
    # The service rolled its own savepoint back, so answering 303 (which commits) keeps nothing of the failure.
    flash(request, _(exc.detail), category="error")
    return Redirect(MANAGE, status_code=303)


class ShopViews(Controller):
    include_in_schema = False

    @get("/shops/{slug:str}", media_type=MediaType.HTML)
    async def shop_page(self, request: Request[Any, Any, Any], slug: FromPath[str], db_session: DB,
                        settings: AppSettings, optional_user: MaybeUser, shop_service: Shops,
                        mode: FromQuery[str | None] = None,
                        sort: FromQuery[str] = "newest", page: FromQuery[int] = 1) -> Any:
        # anonymous visitors get the page from the shared cache; every shop, listing and feedback write bumps
        # what it shows (docs/rules.md §18)
        return await cached_page(request, lambda: self._shop_page(request, slug, db_session, optional_user,
                                                                  shop_service, mode, sort, page))

    async def _shop_page(self, request: Request[Any, Any, Any], slug: str, db_session: DB,
                         optional_user: CurrentUser | None, service: ShopService, mode: str | None, sort: str,
                         page: int) -> Template:
        shop = await service.visible(slug, optional_user)
        mode = mode if mode in MODES else None
        sort = sort if sort in SORTS else "newest"
        cards, total = await service.shop_listings(shop, mode=mode, sort=sort, page=page, per_page=PER_PAGE)
        query = "&".join(f"{k}={v}" for k, v in (("mode", mode), ("sort", sort)) if v)
        return await render(
            request, db_session, "shops/shop.html", shop=shop, owner=await service.owner(shop),
            listings=cards, total=total, page=max(1, page), per_page=PER_PAGE, mode=mode, sort=sort, sorts=SORTS,
            base_url=f"/shops/{shop.slug}" + (f"?{query}" if query else ""),
            rating=await service.rating(shop.owner_id), logo_url=media_url(shop.logo_key),
            banner_url=media_url(shop.banner_key), is_owner=bool(optional_user and optional_user.id == shop.owner_id),
        )

    @get(MANAGE, guards=[requires_login])
    async def manage(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB,
                     settings: AppSettings, shop_service: Shops) -> Template:
        service = shop_service
        shop = await service.for_owner(user.id)
        context: dict[str, Any] = {"shop": shop, "plans": settings.plans}
        if shop is not None:
            now = utcnow()
            context.update(
                free_remaining=await service.free_remaining(shop, now), plan=settings.plan(shop.plan),
                grace_ends_at=rules.grace_ends_at(subscription(shop), settings.shop_grace_days),
                logo_url=media_url(shop.logo_key), banner_url=media_url(shop.banner_key),
                listing_count=await service.listing_count(shop.id),
                renew_price=service.plan(rules.manual_renewal_plan(subscription(shop), now)).price,
            )
        return await render(request, db_session, "shops/manage.html", **context)

    @post(f"{MANAGE}/open", guards=[requires_login])
    async def open_shop(self, request: Request[Any, Any, Any], data: Form, user: AuthUser, db_session: DB,
                        settings: AppSettings, shop_service: Shops) -> Redirect:
        form = {k: str(v) for k, v in data.items()}
        try:
            shop = await shop_service.open_shop(
                user.id, name=form.get("name", ""), slug=form.get("slug") or None, plan=form.get("plan", "basic"),
                auto_renew=_checked(form, "auto_renew"), description=form.get("description", ""), now=utcnow())
        except DomainError as exc:
            return _fail(request, exc)
        flash(request, _("Your shop “%(name)s” is open.", name=shop.name), category="success")
        return Redirect(MANAGE, status_code=303)

    @post(MANAGE, guards=[requires_login])
    async def update(self, request: Request[Any, Any, Any], data: Form, user: AuthUser,
                     shop_service: Shops) -> Redirect:
        form = {k: str(v) for k, v in data.items()}
        return await self._change(request, user, shop_service, "Shop details saved.",
                                  name=form.get("name", ""), description=form.get("description", ""),
                                  auto_renew=_checked(form, "auto_renew"))

    @post(f"{MANAGE}/plan", guards=[requires_login])
    async def change_plan(self, request: Request[Any, Any, Any], data: Form, user: AuthUser,
                          shop_service: Shops) -> Redirect:
        return await self._change(request, user, shop_service, "Plan updated.",
                                  plan=str(data.get("plan", "")))

    async def _change(self, request: Request[Any, Any, Any], user: CurrentUser, service: ShopService, done: str,
                      **changes: Any) -> Redirect:
        shop = await service.for_owner(user.id)
        if shop is None:
            flash(request, N_("Open a shop first."), category="error")
            return Redirect(MANAGE, status_code=303)
        try:
            await service.update(shop.slug, user, now=utcnow(), **changes)
        except DomainError as exc:
            return _fail(request, exc)
        flash(request, done, category="success")
        return Redirect(MANAGE, status_code=303)

    @post(f"{MANAGE}/renew", guards=[requires_login])
    async def renew(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB,
                    settings: AppSettings, shop_service: Shops) -> Redirect:
        service = shop_service
        shop = await service.for_owner(user.id)
        if shop is None:
            flash(request, N_("Open a shop first."), category="error")
            return Redirect(MANAGE, status_code=303)
        try:
            shop = await service.renew(shop.slug, user, now=utcnow())
        except DomainError as exc:
            return _fail(request, exc)
        flash(request, _("Renewed: paid until %(until)s UTC.", until=f"{shop.paid_until:%Y-%m-%d %H:%M}"),
              category="success")
        return Redirect(MANAGE, status_code=303)

    @post(f"{MANAGE}/images", guards=[requires_login])
    async def upload_image(self, request: Request[Any, Any, Any], data: Upload, user: AuthUser, db_session: DB,
                           settings: AppSettings, shop_service: Shops) -> Redirect:
        service = shop_service
        shop = await service.for_owner(user.id)
        if shop is None:
            flash(request, N_("Open a shop first."), category="error")
            return Redirect(MANAGE, status_code=303)
        kind = str(data.get("kind", ""))
        upload = data.get("file")
        try:
            if kind not in images.MAX_SIDE:
                raise InvalidImage("Choose a logo or a banner.")
            if not isinstance(upload, UploadFile):
                raise InvalidImage("Choose an image file.")
            raw = await upload.read(settings.max_image_bytes + 1)
            # Decoding and writing block: keep them off the event loop (decodes one at a time, media/images.py).
            clean = await in_decoder(images.clean_image, raw, max_bytes=settings.max_image_bytes,
                                     max_pixels=settings.max_image_pixels, max_side=images.MAX_SIDE[kind])
        except DomainError as exc:
            return _fail(request, exc)
        key = await asyncio.to_thread(images.save_shop_image, settings.media_dir, shop.id, kind, clean)
        await service.set_image(shop, kind, key)
        flash(request, _("Logo updated.") if kind == "logo" else _("Banner updated."), category="success")
        return Redirect(MANAGE, status_code=303)


ROUTES = [ShopViews]
