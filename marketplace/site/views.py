"""Site operations HTML pages: /admin/templates, /admin/blocks, /admin/reports, /admin/cache, the report form.

Forms carry the CSRF token and answer 303 with a flash; a refused action rolls the transaction back first (the
redirect would otherwise commit what the service flushed).
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from marketplace.errors import DomainError, InvalidInput
from marketplace.i18n import _
from marketplace.site import rules
from marketplace.site.api import template_service
from marketplace.site.blocks import BlockService, block_out
from marketplace.site.preview import preview_page
from marketplace.site.reports import STATUSES, ReportService
from marketplace.site.templates import TEMPLATE_FILES
from marketplace.web.auth import requires_admin, requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401
from marketplace.web.pages import act, render

Form = URLEncodedBody[dict[str, Any]]



def _block_form(form: dict[str, Any]) -> dict[str, Any]:
    """The block form as the JSON API's body (numbers parsed, checkboxes as booleans)."""
    def number(key: str) -> int | None:
        raw = str(form.get(key, "")).strip()
        if raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise InvalidInput("“%(key)s” must be a number.", key=key) from None

    query = {"category_id": number("category_id"), "mode": form.get("mode") or None, "q": form.get("q") or None,
             "sort": form.get("sort") or None, "min_price": number("min_price"),
             "max_price": number("max_price"), "featured": True if form.get("featured") else None,
             "shop": form.get("shop") or None}
    return {"title": str(form.get("title", "")), "slot": str(form.get("slot", "")).strip(),
            "position": number("position") or 0, "display": form.get("display") or "grid",
            "limit": number("limit") or 8, "active": bool(form.get("active")), "query": query}


class SiteAdminViews(Controller):
    path = "/admin"
    guards = (requires_admin,)
    include_in_schema = False

    # --- templates -------------------------------------------------------------------------------------------

    @get("/templates")
    async def templates(self, request: Request[Any, Any, Any], db_session: DB) -> Template:
        rows = await template_service(request, db_session).overview()
        return await render(request, db_session, "site/templates.html", rows=rows)

    @get("/templates/{name:str}")
    async def template_editor(self, request: Request[Any, Any, Any], name: FromPath[str], db_session: DB,
                              version: FromQuery[int | None] = None) -> Template:
        service = template_service(request, db_session)
        detail = await service.detail(name)
        versions = await service.versions(name)
        source = detail["shipped_source"]
        if version is not None:
            source = (await service.get_version(name, version)).source
        elif versions:
            source = versions[0][0].source
        return await render(request, db_session, "site/template_editor.html", name=name, detail=detail,
                            versions=versions, source=source)

    @post("/templates/{name:str}/versions", request_max_body_size=1024 * 1024)
    async def save_template(self, request: Request[Any, Any, Any], name: FromPath[str], data: Form,
                            user: AuthUser, db_session: DB) -> Redirect:
        async def action() -> str:
            row = await template_service(request, db_session).save_draft(name, data.get("source"), user.id)
            return f"Saved draft v{row.version} of “{name}”."

        return await act(request, db_session, f"/admin/templates/{name}", action)

    @post("/templates/{name:str}/preview", request_max_body_size=1024 * 1024)
    async def preview_template(self, request: Request[Any, Any, Any], name: FromPath[str], data: Form,
                               db_session: DB, settings: AppSettings) -> Response[str]:
        service = template_service(request, db_session)
        source = service.check(name, data.get("source"))
        page, context = await preview_page(request, db_session, settings, name)
        return Response(service.preview(name, source, page, context), media_type=MediaType.HTML)

    @post("/templates/{name:str}/versions/{version:int}/publish")
    async def publish_template(self, request: Request[Any, Any, Any], name: FromPath[str], version: FromPath[int],
                               db_session: DB) -> Redirect:
        async def action() -> str:
            await template_service(request, db_session).publish(name, version)
            return f"Published v{version} of “{name}”."

        return await act(request, db_session, f"/admin/templates/{name}", action)

    @post("/templates/{name:str}/revert")
    async def revert_template(self, request: Request[Any, Any, Any], name: FromPath[str],
                              db_session: DB) -> Redirect:
        async def action() -> str:
            await template_service(request, db_session).revert(name)
            return f"“{name}” is the shipped template again."

        return await act(request, db_session, f"/admin/templates/{name}", action)

    @get("/templates/{name:str}/versions/{version:int}/diff")
    async def template_diff(self, request: Request[Any, Any, Any], name: FromPath[str], version: FromPath[int],
                            db_session: DB) -> Template:
        diff = await template_service(request, db_session).diff(name, version)
        return await render(request, db_session, "site/template_diff.html", name=name, version=version, diff=diff)

    # --- blocks ----------------------------------------------------------------------------------------------

    @get("/blocks")
    async def blocks(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings) -> Template:
        rows = [block_out(b) for b in await BlockService(db_session, settings).all()]
        return await render(request, db_session, "site/blocks.html", rows=rows, displays=rules.DISPLAYS,
                            sorts=rules.SORTS)

    @post("/blocks")
    async def create_block(self, request: Request[Any, Any, Any], data: Form, db_session: DB,
                           settings: AppSettings) -> Redirect:
        async def action() -> str:
            block = await BlockService(db_session, settings, request.app.state.cache).create(_block_form(data))
            return f"Block “{block.title}” created."

        return await act(request, db_session, "/admin/blocks", action)

    @post("/blocks/{block_id:int}")
    async def update_block(self, request: Request[Any, Any, Any], block_id: FromPath[int], data: Form,
                           db_session: DB, settings: AppSettings) -> Redirect:
        async def action() -> str:
            block = await BlockService(db_session, settings, request.app.state.cache).update(
                block_id, _block_form(data))
            return f"Block “{block.title}” saved."

        return await act(request, db_session, "/admin/blocks", action)

    @post("/blocks/{block_id:int}/move")
    async def move_block(self, request: Request[Any, Any, Any], block_id: FromPath[int], data: Form,
                         db_session: DB, settings: AppSettings) -> Redirect:
        async def action() -> str:
            step = -1 if data.get("direction") == "up" else 1
            block = await BlockService(db_session, settings, request.app.state.cache).move(block_id, step)
            return f"Moved “{block.title}”."

        return await act(request, db_session, "/admin/blocks", action)

    @post("/blocks/{block_id:int}/delete")
    async def delete_block(self, request: Request[Any, Any, Any], block_id: FromPath[int], db_session: DB,
                           settings: AppSettings) -> Redirect:
        async def action() -> str:
            await BlockService(db_session, settings, request.app.state.cache).delete(block_id)
            return "Block deleted."

        return await act(request, db_session, "/admin/blocks", action)

    @get("/blocks/preview")
    async def block_preview(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings,
                            spec: FromQuery[str] = "{}", limit: FromQuery[int] = 8) -> Template:
        """The live preview's fragment: the items a query would show (the block editor's script fetches it)."""
        try:
            parsed = rules.check_query(json.loads(spec))
            items = await BlockService(db_session, settings).items(parsed, min(max(limit, 1), rules.MAX_ITEMS))
            error = None
        except (DomainError, ValueError) as exc:
            items, error = [], getattr(exc, "detail", "The query is not valid JSON.")
        return Template(template_name="site/_block_preview.html", context={"items": items, "error": error})

    # --- reports ---------------------------------------------------------------------------------------------

    @get("/reports")
    async def reports(self, request: Request[Any, Any, Any], db_session: DB, status: FromQuery[str] = "open",
                      reason: FromQuery[str] = "") -> Template:
        service = ReportService(db_session)
        try:
            items, total = await service.queue(status or None, reason or None)
        except DomainError as exc:
            flash(request, _(exc.detail), category="error")
            items, total = [], 0
        history = {i["seller"]: await service.seller_history(i["seller"]) for i in items}
        return await render(request, db_session, "site/reports.html", items=items, total=total, status=status,
                            reason=reason, statuses=STATUSES, reasons=rules.REPORT_REASONS, history=history)

    @post("/reports/{report_id:int}/resolve")
    async def resolve_report(self, request: Request[Any, Any, Any], report_id: FromPath[int], data: Form,
                             user: AuthUser, db_session: DB) -> Redirect:
        async def action() -> str:
            report = await ReportService(db_session, request.app.state.publisher).resolve(
                report_id, user.id, data.get("action"), data.get("note"))
            return f"Report #{report.id}: {report.status}."

        return await act(request, db_session, "/admin/reports", action)

    # --- cache -----------------------------------------------------------------------------------------------

    @get("/cache")
    async def cache(self, request: Request[Any, Any, Any], db_session: DB) -> Template:
        stats = await request.app.state.cache.stats()
        return await render(request, db_session, "site/cache.html", stats=stats)

    @post("/cache/purge")
    async def purge(self, request: Request[Any, Any, Any], db_session: DB) -> Redirect:
        async def action() -> str:
            await request.app.state.cache.purge()
            return "Cache purged."

        return await act(request, db_session, "/admin/cache", action)


@post("/listings/{listing_id:int}/report", guards=[requires_login], include_in_schema=False)
async def report_form(request: Request[Any, Any, Any], listing_id: FromPath[int], data: Form, user: AuthUser,
                      db_session: DB) -> Redirect:
    async def action() -> str:
        await ReportService(db_session).report(listing_id, user.id, data.get("reason"), data.get("text"))
        return "Thank you: the moderators will look at this listing. 已举报。"

    return await act(request, db_session, f"/listings/{listing_id}", action)


ROUTES: list[Any] = [SiteAdminViews, report_form]
__all__ = ["ROUTES", "TEMPLATE_FILES"]
