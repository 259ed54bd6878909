"""Site operations JSON API (docs/api.md "Site operations"): blocks, templates, reports, cache."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from marketplace.cache import Cache
from marketplace.errors import InvalidInput
from marketplace.site.blocks import BlockService, block_out
from marketplace.site.preview import preview_page
from marketplace.site.reports import ReportService, report_out
from marketplace.site.templates import OverrideRegistry, TemplateService, version_out
from marketplace.web.auth import requires_admin, requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser

Body = JSONBody[dict[str, Any]]


def _cache(request: Request[Any, Any, Any]) -> Cache:
    return request.app.state.cache  # type: ignore[no-any-return]


def registry(request: Request[Any, Any, Any]) -> OverrideRegistry:
    engine = request.app.template_engine
    reg = getattr(engine, "overrides", None)
    assert isinstance(reg, OverrideRegistry), "create_app enables template overrides"
    return reg


def template_service(request: Request[Any, Any, Any], db: DB) -> TemplateService:
    return TemplateService(db, registry(request), _cache(request))


# --- blocks ----------------------------------------------------------------------------------------------------


@get("/blocks", tags=["site"], summary="The active blocks of a slot with their listings, in position order")
async def slot_blocks(request: Request[Any, Any, Any], db_session: DB, settings: AppSettings,
                      optional_user: MaybeUser, slot: FromQuery[str] = "home") -> list[dict[str, Any]]:
    service = BlockService(db_session, settings, _cache(request))
    if optional_user is None:
        return await service.cached_slot(slot)
    return await service.render_slot(slot, optional_user.id)  # `you_lead` is the caller's


@get("/admin/blocks", guards=[requires_admin], tags=["site", "admin"], summary="Every block (optionally of a slot)")
async def list_blocks(request: Request[Any, Any, Any], db_session: DB, settings: AppSettings,
                      slot: FromQuery[str | None] = None) -> list[dict[str, Any]]:
    return [block_out(b) for b in await BlockService(db_session, settings).all(slot)]


@post("/admin/blocks", guards=[requires_admin], tags=["site", "admin"], status_code=201, summary="Create a block")
async def create_block(request: Request[Any, Any, Any], data: Body, db_session: DB,
                       settings: AppSettings) -> dict[str, Any]:
    return block_out(await BlockService(db_session, settings, _cache(request)).create(data))


@patch("/admin/blocks/{block_id:int}", guards=[requires_admin], tags=["site", "admin"], summary="Change a block")
async def update_block(request: Request[Any, Any, Any], block_id: FromPath[int], data: Body, db_session: DB,
                       settings: AppSettings) -> dict[str, Any]:
    return block_out(await BlockService(db_session, settings, _cache(request)).update(block_id, data))


@delete("/admin/blocks/{block_id:int}", guards=[requires_admin], tags=["site", "admin"], status_code=204,
        summary="Delete a block")
async def delete_block(request: Request[Any, Any, Any], block_id: FromPath[int], db_session: DB,
                       settings: AppSettings) -> None:
    await BlockService(db_session, settings, _cache(request)).delete(block_id)


# --- templates -------------------------------------------------------------------------------------------------


@get("/admin/templates", guards=[requires_admin], tags=["site", "admin"],
     summary="The overridable front templates and their published override version")
async def list_templates(request: Request[Any, Any, Any], db_session: DB) -> list[dict[str, Any]]:
    return await template_service(request, db_session).overview()


@get("/admin/templates/{name:str}", guards=[requires_admin], tags=["site", "admin"],
     summary="A template's shipped source and its versions")
async def template_detail(request: Request[Any, Any, Any], name: FromPath[str], db_session: DB) -> dict[str, Any]:
    return await template_service(request, db_session).detail(name)


@post("/admin/templates/{name:str}/versions", guards=[requires_admin], tags=["site", "admin"], status_code=201,
      summary="Save a draft version (refused with the line when unsafe or not compiling; 413 over 64 KB)",
      request_max_body_size=1024 * 1024)
async def save_template(request: Request[Any, Any, Any], name: FromPath[str], data: Body, user: AuthUser,
                        db_session: DB) -> dict[str, Any]:
    row = await template_service(request, db_session).save_draft(name, data.get("source"), user.id)
    return {"name": name, **version_out(row, user.username)}


@post("/admin/templates/{name:str}/preview", guards=[requires_admin], tags=["site", "admin"], status_code=200,
      summary="Render the page with a source or a saved version in place, without publishing",
      media_type=MediaType.HTML, request_max_body_size=1024 * 1024)
async def preview_template(request: Request[Any, Any, Any], name: FromPath[str], data: Body, db_session: DB,
                           settings: AppSettings) -> Response[str]:
    service = template_service(request, db_session)
    if "source" in data:
        source = data["source"]
    elif "version" in data:
        version = data["version"]
        if isinstance(version, bool) or not isinstance(version, int):
            raise InvalidInput("version must be a number.")
        source = (await service.get_version(name, version)).source
    else:
        raise InvalidInput("Send {source} or {version}.")
    source = service.check(name, source)
    page, context = await preview_page(request, db_session, settings, name)
    return Response(service.preview(name, source, page, context), media_type=MediaType.HTML)


@post("/admin/templates/{name:str}/versions/{version:int}/publish", guards=[requires_admin],
      tags=["site", "admin"], status_code=200, summary="Publish a version (also how to roll back)")
async def publish_template(request: Request[Any, Any, Any], name: FromPath[str], version: FromPath[int],
                           db_session: DB) -> dict[str, Any]:
    row = await template_service(request, db_session).publish(name, version)
    return {"name": name, **version_out(row, None)}


@delete("/admin/templates/{name:str}/override", guards=[requires_admin], tags=["site", "admin"], status_code=204,
        summary="Revert to the shipped template")
async def revert_template(request: Request[Any, Any, Any], name: FromPath[str], db_session: DB) -> None:
    await template_service(request, db_session).revert(name)


# --- reports ---------------------------------------------------------------------------------------------------


@post("/listings/{listing_id:int}/reports", guards=[requires_login], tags=["site", "listings"], status_code=201,
      summary="Report a listing (once per user)")
async def report_listing(request: Request[Any, Any, Any], listing_id: FromPath[int], data: Body, user: AuthUser,
                         db_session: DB) -> dict[str, Any]:
    report = await ReportService(db_session).report(listing_id, user.id, data.get("reason"), data.get("text"))
    return {"id": report.id, "status": report.status, "listing_id": report.listing_id, "reason": report.reason}


@get("/admin/reports", guards=[requires_admin], tags=["site", "admin"], summary="The report queue")
async def list_reports(db_session: DB, status: FromQuery[str | None] = "open", reason: FromQuery[str | None] = None,
                       page: FromQuery[int] = 1, per_page: FromQuery[int] = 50) -> dict[str, Any]:
    per_page = min(max(per_page, 1), 100)
    items, total = await ReportService(db_session).queue(status or None, reason, page, per_page)
    return {"items": items, "total": total, "page": max(page, 1), "per_page": per_page}


@post("/admin/reports/{report_id:int}/resolve", guards=[requires_admin], tags=["site", "admin"], status_code=200,
      summary="Dismiss a report, or remove the listing with a reason the seller sees")
async def resolve_report(request: Request[Any, Any, Any], report_id: FromPath[int], data: Body, user: AuthUser,
                         db_session: DB) -> dict[str, Any]:
    report = await ReportService(db_session, request.app.state.publisher).resolve(
        report_id, user.id, data.get("action"), data.get("note"))
    return report_out(report, "")


@get("/my/removals", guards=[requires_login], tags=["site", "listings"],
     summary="My listings removed by moderation, with the reason")
async def my_removals(user: AuthUser, db_session: DB) -> list[dict[str, Any]]:
    return await ReportService(db_session).removals(user.id)


# --- cache -----------------------------------------------------------------------------------------------------


@get("/admin/cache", guards=[requires_admin], tags=["site", "admin"],
     summary="Cache hits and misses (this process) and the number of keys (shared)")
async def cache_stats(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await _cache(request).stats()


@post("/admin/cache/purge", guards=[requires_admin], tags=["site", "admin"], status_code=204,
      summary="Drop every cached entry")
async def cache_purge(request: Request[Any, Any, Any]) -> None:
    await _cache(request).purge()


ROUTES = [slot_blocks, list_blocks, create_block, update_block, delete_block, list_templates, template_detail,
          save_template, preview_template, publish_template, revert_template, report_listing, list_reports,
          resolve_report, my_removals, cache_stats, cache_purge]
