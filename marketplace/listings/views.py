"""HTML pages of listings: sell, listing page, category, search, my listings; and /media for photos.

Form POSTs answer 303 with a flash on success; a refused form is rendered again with the reason and the error's
status code (never 2xx, so the request transaction — a half-published listing — is rolled back).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, MediaType, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, MultipartBody, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import File, Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.categories.services import CategoryService
from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.i18n import N_, _
from marketplace.listings import ports, question_rules, questions, rules
from marketplace.listings.deps import ListingPagePanel, ListingPanel, ListingPublished
from marketplace.listings.services import BrowseQuery, ListingService
from marketplace.membership.services import badges_for
from marketplace.membership.views import buy_box
from marketplace.numbers import parse_filter_int, parse_optional_int
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.web.auth import current_user, requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401
from marketplace.web.media import media_file
from marketplace.web.pagecache import cached_page
from marketplace.web.pages import render

# Photo files are named by a random token and never change, so browsers and CDNs may keep them for a year.
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"
# The sell form carries several photos at once (each up to settings.max_image_bytes).
SELL_BODY_LIMIT = 160 * 1024 * 1024
PER_PAGE = 24
Form = URLEncodedBody[dict[str, Any]]


@get("/media/{path:path}", include_in_schema=False, sync_to_thread=False)
def media(path: FromPath[str], settings: AppSettings) -> File:
    """Files of settings.media_dir (LocalStorage), with their image type (web/media.py); anything else is 404."""
    return media_file(Path(settings.media_dir), path, cache_control=MEDIA_CACHE_CONTROL)


def _service(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings) -> ListingService:
    return ListingService(db, settings, publisher=request.app.state.publisher)


def form_int(form: dict[str, Any], name: str, label: str) -> int | None:
    """An optional whole number of a form (sell, buy): marketplace/numbers.py's one strict parser, so ``²``, other
    scripts' digits or 5,000 digits are a form error (400), never a 500. Bounds are the rules' business."""
    return parse_optional_int(form.get(name), label=label)


def _draft_from_form(form: dict[str, Any]) -> dict[str, Any]:
    """The sell form as ListingService.create expects it (the same fields as the JSON API)."""
    return {
        "title": str(form.get("title") or ""),
        "description": str(form.get("description") or ""),
        "category_id": form_int(form, "category_id", "Category") or 0,
        "mode": str(form.get("mode") or "fixed"),
        "price": form_int(form, "price", "Price"),
        "quantity": form_int(form, "quantity", "Quantity"),
        "start_price": form_int(form, "start_price", "Start price"),
        "reserve_price": form_int(form, "reserve_price", "Reserve price"),
        "buy_now_price": form_int(form, "buy_now_price", "Buy Now price"),
        "duration_seconds": form_int(form, "duration_seconds", "Duration"),
        "auto_extend": form.get("auto_extend") not in (None, "", "0", "off"),
        "featured": form.get("featured") not in (None, "", "0", "off"),
        "shipping_fee": form_int(form, "shipping_fee", "Shipping fee"),
        "member_day": form.get("member_day") not in (None, "", "0", "off"),
        "plus_price": form_int(form, "plus_price", "PLUS price"),
        "condition": str(form.get("condition") or "") or None,
        "location": str(form.get("location") or ""),
    }


def _edit_from_form(form: dict[str, Any], listing: Any) -> dict[str, Any]:
    """The seller's edit form as ListingService.edit expects it: the fields shown for the listing's mode; price
    fields are sent only when the form shows them (no bids or sales), so an unchanged value is not an edit."""
    patch: dict[str, Any] = {
        "title": str(form.get("title") or ""),
        "description": str(form.get("description") or ""),
        "category_id": form_int(form, "category_id", "Category") or 0,
        "condition": str(form.get("condition") or "") or None,
        "location": str(form.get("location") or ""),
    }
    if "price_fields" in form:
        if listing.mode == "fixed":
            patch["price"] = form_int(form, "price", "Price")
            patch["plus_price"] = form_int(form, "plus_price", "PLUS price")
            patch["member_day"] = form.get("member_day") not in (None, "", "0", "off")
            patch["shipping_fee"] = form_int(form, "shipping_fee", "Shipping fee") or 0
        else:
            patch["start_price"] = form_int(form, "start_price", "Start price")
            patch["buy_now_price"] = form_int(form, "buy_now_price", "Buy Now price")
    keep = []
    for key in form:
        if key.startswith("photo_pos_"):
            image_id = parse_optional_int(key.removeprefix("photo_pos_"), label="Photo")
            if image_id is None or form.get(f"photo_remove_{image_id}") not in (None, "", "0", "off"):
                continue
            keep.append((form_int(form, key, "Photo position") or 0, image_id))
    if keep or any(k.startswith("photo_remove_") for k in form):
        patch["photo_order"] = [image_id for _, image_id in sorted(keep)]
    return patch


def _files(value: Any) -> list[UploadFile]:
    items = value if isinstance(value, list) else [value]
    # A file input left empty still posts one part with no name and no bytes.
    return [f for f in items if isinstance(f, UploadFile) and f.filename]


def _leaf_choices(nodes: list[dict[str, Any]], path: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for node in nodes:
        names = (*path, node["name"])
        if node["children"]:
            out.extend(_leaf_choices(node["children"], names))
        else:
            out.append({"id": node["id"], "label": " › ".join(names)})
    return out


def _durations(settings: Settings) -> list[tuple[int, str]]:
    options = [(60, "1 minute"), (300, "5 minutes"), (3600, "1 hour"), (6 * 3600, "6 hours"), (86400, "1 day"),
               (3 * 86400, "3 days"), (7 * 86400, "7 days"), (14 * 86400, "14 days")]
    return [(s, label) for s, label in options if settings.min_auction_seconds <= s <= settings.max_auction_seconds]


async def _sell_context(db: AsyncSession, settings: Settings, user_id: int) -> dict[str, Any]:
    terms = await ports.shops().listing_terms(db, user_id, utcnow(), settings)
    available, _ = await ledger.wallet_balances(db, user_id)
    return {
        "categories": _leaf_choices(await CategoryService(db).tree()),
        "terms": terms,
        "available": available,
        "durations": _durations(settings),
        "condition_labels": rules.CONDITION_LABELS,
        "fees": {"fixed": 0 if terms.free else settings.fee_insertion_fixed,
                 "auction": 0 if terms.free else settings.fee_insertion_auction, "featured": settings.fee_featured},
    }


def _clean_filters(mode: str | None, sort: str | None, min_price: str | None, max_price: str | None,
                   condition: str | None = None) -> dict[str, Any]:
    """Page filters from the query string: words are ignored, a malformed number is a 400 (marketplace/numbers.py)."""
    def number(raw: str | None) -> int | None:
        return parse_filter_int(raw, label="The price filter")

    return {"mode": mode if mode in ("fixed", "auction") else None,
            "sort": sort if sort in ("ending_soon", "newest", "price_asc", "price_desc") else None,
            "min_price": number(min_price), "max_price": number(max_price),
            "condition": condition if condition in rules.CONDITIONS else None}


def _query_string(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


async def listing_page(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings, listing_id: int,
                       panel: ListingPanel, *, error: str | None = None, status_code: int = 200) -> Template:
    """The listing page; ``panel`` adds the auction box's context (the auctions domain, injected)."""
    svc = _service(request, db, settings)
    viewer = current_user(request)
    viewer_id = viewer.id if viewer else None
    listing = await svc.get_visible(listing_id, viewer_id, is_admin=bool(viewer and viewer.is_admin))
    out = await svc.out(listing, viewer_id)
    has_auction_box = listing.mode == "auction"
    extra = await panel(db, listing, viewer) if has_auction_box else {}
    if viewer_id is not None and listing.mode == "fixed" and viewer_id != listing.seller_id:
        extra["buy_box"] = await buy_box(db, viewer_id, settings)  # points input, docs/rules.md §14
    # docs/rules.md §16: the seller's badges beside the username; §19.7: their rating and feedback count
    extra["seller_badges"] = (await badges_for(db, [listing.seller_id]))[listing.seller_id]
    # docs/rules.md §19.5: the questions this visitor may see
    extra["questions"] = await questions.for_listing(db, listing, viewer_id,
                                                     is_admin=bool(viewer and viewer.is_admin))
    extra["question_max"], extra["answer_max"] = question_rules.QUESTION_MAX, question_rules.ANSWER_MAX
    extra["seller_rating"] = await ports.trust().seller_rating(db, listing.seller_id)
    extra["edits"] = await svc.edits(listing.id) if listing.edit_count else []
    extra["field_labels"] = rules.FIELD_LABELS
    is_seller = viewer_id == listing.seller_id
    if is_seller and listing.status == "active":
        extra["edit_form"] = {
            "categories": _leaf_choices(await CategoryService(db).tree()),
            "prices_open": listing.bid_count == 0 and listing.quantity_available == listing.quantity,
            "conditions": rules.CONDITION_LABELS,
        }
    return await render(
        request, db, "catalog/listing.html", status_code=status_code, listing=out, error=error,
        condition_labels=rules.CONDITION_LABELS,
        listing_row=listing, listing_json=msgspec.to_builtins(out), **extra,
        breadcrumbs=await svc.breadcrumbs(listing.category_id), is_seller=is_seller,
        can_end=(viewer_id == listing.seller_id and listing.status == "active" and listing.bid_count == 0
                 and listing.quantity_available == listing.quantity),
        has_auction_box=has_auction_box,
        can_feature=viewer_id == listing.seller_id and listing.status == "active" and not listing.featured,
    )


class ListingViews(Controller):
    include_in_schema = False

    @get("/", media_type=MediaType.HTML)
    async def home(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings) -> Any:
        # The home slot's blocks (docs/rules.md §18); anonymous visitors get the whole page from the cache.
        async def page() -> Template:
            blocks = await ports.blocks().slot(db_session, settings, request.app.state.cache, "home")
            return await render(request, db_session, "catalog/home.html", blocks=[b for b in blocks if b["items"]])

        return await cached_page(request, page)

    @get("/member-day")
    async def member_day(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings) -> Template:
        """The member-day zone (docs/rules.md §15) with its ``member_day_block`` slot."""
        viewer = current_user(request)
        zone = await ListingService(db_session, settings).member_day_zone(viewer.id if viewer else None)
        return await render(request, db_session, "catalog/member_day.html", zone=zone,
                            member_day=settings.member_day, timezone=settings.timezone)

    # --- sell ------------------------------------------------------------------------------------------------

    @get("/sell", guards=[requires_login])
    async def sell_form(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB,
                        settings: AppSettings) -> Template:
        context = await _sell_context(db_session, settings, user.id)
        return await render(request, db_session, "catalog/sell.html", form={"mode": "fixed", "auto_extend": "1"},
                            error=None, **context)

    @post("/sell", guards=[requires_login], request_max_body_size=SELL_BODY_LIMIT)
    async def sell(self, request: Request[Any, Any, Any], data: MultipartBody[dict[str, Any]], user: AuthUser,
                   db_session: DB, settings: AppSettings,
                   listing_published: ListingPublished) -> Template | Redirect:
        form = {k: v for k, v in data.items() if not isinstance(v, (UploadFile, list))}
        svc = _service(request, db_session, settings)
        try:
            listing = await svc.create(user.id, _draft_from_form(form))
            listing_published(db_session, listing)
            for upload in _files(data.get("images")):
                await svc.add_image(listing.id, user.id, await upload.read())
        except DomainError as exc:
            context = await _sell_context(db_session, settings, user.id)
            return await render(request, db_session, "catalog/sell.html", form=form, error=exc.detail,
                                status_code=exc.status_code, **context)
        fee = listing.insertion_fee + (settings.fee_featured if listing.featured else 0)
        flash(request, _("Your listing is live. Fee charged: %(fee)s coins.", fee=fee), category="success")
        return Redirect(f"/listings/{listing.id}", status_code=303)

    # --- listing page ----------------------------------------------------------------------------------------

    @get("/listings/{listing_id:int}", media_type=MediaType.HTML)
    async def show(self, request: Request[Any, Any, Any], listing_id: FromPath[int], db_session: DB,
                   settings: AppSettings, listing_panel: ListingPagePanel) -> Any:
        # anonymous visitors get the page from the shared cache, bumped by every write to the listing (§18)
        return await cached_page(request, lambda: listing_page(request, db_session, settings, listing_id,
                                                               listing_panel))

    @post("/listings/{listing_id:int}/feature", guards=[requires_login])
    async def feature(self, request: Request[Any, Any, Any], listing_id: FromPath[int], user: AuthUser,
                      db_session: DB, settings: AppSettings, listing_panel: ListingPagePanel) -> Template | Redirect:
        try:
            await _service(request, db_session, settings).feature(listing_id, user.id)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            await db_session.rollback()
            return await listing_page(request, db_session, settings, listing_id, listing_panel, error=exc.detail,
                                      status_code=exc.status_code)
        flash(request, _("Featured! %(fee)s coins charged.", fee=settings.fee_featured), category="success")
        return Redirect(f"/listings/{listing_id}", status_code=303)

    @post("/listings/{listing_id:int}/edit", guards=[requires_login], request_max_body_size=SELL_BODY_LIMIT)
    async def edit(self, request: Request[Any, Any, Any], listing_id: FromPath[int],
                   data: MultipartBody[dict[str, Any]], user: AuthUser, db_session: DB, settings: AppSettings,
                   listing_panel: ListingPagePanel) -> Template | Redirect:
        """The seller's edit form (docs/rules.md §19.7): fields, photos kept/reordered/removed, photos added."""
        form = {k: v for k, v in data.items() if not isinstance(v, (UploadFile, list))}
        svc = _service(request, db_session, settings)
        try:
            listing = await svc.get_visible(listing_id, user.id, is_admin=user.is_admin)
            await svc.edit(listing_id, user.id, _edit_from_form(form, listing))
            for upload in _files(data.get("images")):
                await svc.add_image(listing_id, user.id, await upload.read())
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            await db_session.rollback()
            return await listing_page(request, db_session, settings, listing_id, listing_panel, error=exc.detail,
                                      status_code=exc.status_code)
        flash(request, _("Listing updated."), category="success")
        return Redirect(f"/listings/{listing_id}", status_code=303)

    @post("/listings/{listing_id:int}/end", guards=[requires_login])
    async def end(self, request: Request[Any, Any, Any], listing_id: FromPath[int], user: AuthUser, db_session: DB,
                  settings: AppSettings) -> Redirect:
        try:
            await _service(request, db_session, settings).end_early(listing_id, user.id)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            await db_session.rollback()
            flash(request, _(exc.detail), category="error")
            return Redirect("/my/listings", status_code=303)
        flash(request, N_("Listing ended."), category="success")
        return Redirect("/my/listings", status_code=303)

    # --- browse ----------------------------------------------------------------------------------------------

    @get("/c/{slug:str}", media_type=MediaType.HTML)
    async def category(
        self, request: Request[Any, Any, Any], slug: FromPath[str], db_session: DB, settings: AppSettings,
        mode: FromQuery[str | None] = None, sort: FromQuery[str | None] = None,
        min_price: FromQuery[str | None] = None, max_price: FromQuery[str | None] = None,
        page: FromQuery[int] = 1, condition: FromQuery[str | None] = None,
    ) -> Any:
        async def produce() -> Template:
            cats = CategoryService(db_session)
            category = await cats.get_by_slug(slug)
            children = await self._visible_children(cats, category.id)
            filters = _clean_filters(mode, sort, min_price, max_price, condition)
            svc = _service(request, db_session, settings)
            result = await svc.browse(BrowseQuery(category_id=category.id, page=max(page, 1), per_page=PER_PAGE,
                                                  featured_first=True, **filters))
            viewer = current_user(request)
            # the category's slot of admin-composed blocks (docs/rules.md §18)
            site_blocks = await ports.blocks().slot(db_session, settings, request.app.state.cache,
                                                    f"category:{category.id}")
            return await render(
                request, db_session, "catalog/category.html", category=category, children=children,
                breadcrumbs=await svc.breadcrumbs(category.id), filters=filters, result=result,
                items=await svc.out_many(result.items, viewer.id if viewer else None),
                base_url=f"/c/{slug}?" + _query_string(**filters), action=f"/c/{slug}",
                site_blocks=[b for b in site_blocks if b["items"]],
            )

        return await cached_page(request, produce)

    @staticmethod
    async def _visible_children(cats: CategoryService, category_id: int) -> list[dict[str, Any]]:
        def find(nodes: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
            for node in nodes:
                if node["id"] == category_id:
                    return list(node["children"])
                found = find(node["children"])
                if found is not None:
                    return found
            return None

        return find(await cats.tree()) or []

    @get("/search", media_type=MediaType.HTML)
    async def search(
        self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings,
        q: FromQuery[str] = "", mode: FromQuery[str | None] = None, sort: FromQuery[str | None] = None,
        min_price: FromQuery[str | None] = None, max_price: FromQuery[str | None] = None,
        page: FromQuery[int] = 1, condition: FromQuery[str | None] = None,
        category_id: FromQuery[str | None] = None,
    ) -> Any:
        async def produce() -> Template:
            filters = _clean_filters(mode, sort, min_price, max_price, condition)
            category = parse_filter_int(category_id, label="The category filter")
            svc = _service(request, db_session, settings)
            result = await svc.browse(BrowseQuery(q=q, category_id=category, page=max(page, 1), per_page=PER_PAGE,
                                                  facets=True, **filters))
            viewer = current_user(request)
            return await render(
                request, db_session, "catalog/search.html", q=q, filters=filters, result=result,
                items=await svc.out_many(result.items, viewer.id if viewer else None),
                base_url="/search?" + _query_string(q=q, category_id=category, **filters), action="/search",
                search_category_id=category, facet_base="/search?" + _query_string(q=q, **filters),
            )

        return await cached_page(request, produce)

    @get("/my/listings", guards=[requires_login])
    async def my_listings(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB,
                          settings: AppSettings, page: FromQuery[int] = 1) -> Template:
        svc = _service(request, db_session, settings)
        result = await svc.seller_listings(user.id, page=max(page, 1))
        items = await svc.out_many(result.items, user.id)
        rows = [{"listing": out, "can_end": raw.status == "active" and raw.bid_count == 0
                 and raw.quantity_available == raw.quantity} for out, raw in zip(items, result.items, strict=True)]
        # removed listings leave the list; the seller sees the reason the admin gave (docs/rules.md §18)
        removals = await ports.removals().for_seller(db_session, user.id)
        return await render(request, db_session, "catalog/my_listings.html", rows=rows, result=result,
                            removals=removals)


ROUTES: list[Any] = [media, ListingViews]
