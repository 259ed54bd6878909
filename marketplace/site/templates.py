"""Template overrides (前台HTML模板管理, docs/rules.md §18): versions, the loader chain, the sandboxed renderer.

* Versions are rows of ``site_template_versions``: ``draft`` when saved, ``published`` (at most one per name),
  ``retired`` once replaced. Rolling back = publishing an earlier version; revert = retire the published one.
* Loader chain: the published override of a file first, then the file in ``templates/``.
* A page whose template chain (extends/include/import, followed statically) touches an overridden file renders
  in a ``SandboxedEnvironment`` with autoescape; overrides themselves passed :func:`sandbox.check_source` at save
  (only allow-listed context variables, filters and tests). If that render raises, the shipped templates render
  the page instead and the failure is logged: a bad override never takes a page down.
* Every process keeps the published overrides in memory, tagged with the ``templates`` cache version;
  :class:`TemplateSyncMiddleware` compares it with the shared cache on each page request and reloads on change,
  so a publish reaches every server process at once.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, FunctionLoader, meta
from jinja2 import Template as JinjaTemplate
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from litestar.enums import ScopeType
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import i18n
from marketplace.accounts.models import User
from marketplace.cache import Cache
from marketplace.db import after_commit, iso, utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.site.models import TemplateVersion
from marketplace.site.sandbox import UnsafeTemplate, check_source

log = logging.getLogger(__name__)

# Names admins override -> the shipped file (the one place to change when templates move).
TEMPLATE_FILES: dict[str, str] = {
    "base": "base.html",
    "header": "_partials/header.html",
    "footer": "_partials/footer.html",
    "home": "catalog/home.html",
    "category": "catalog/category.html",
    "listing": "catalog/listing.html",
    "card": "catalog/_card.html",
    "shop": "shops/shop.html",
}
VERSION_KEY = "templates"


def file_for(name: str) -> str:
    if name not in TEMPLATE_FILES:
        raise NotFound("No template named “%(name)s”.", name=name)
    return TEMPLATE_FILES[name]


class OverrideRegistry:
    """This process's published overrides and the sandboxed environment that serves them."""

    def __init__(self, directory: Path, base_env: Any) -> None:
        self.directory = directory
        self.base_env = base_env
        self.token: str | None = None
        self.published: dict[str, str] = {}  # file name -> source
        self._reach: dict[str, frozenset[str]] = {}
        self.env = self._make_env(lambda: self.published)

    def _make_env(self, sources: Callable[[], Mapping[str, str]]) -> SandboxedEnvironment:
        def load(file_name: str) -> tuple[str, None, Callable[[], bool]] | None:
            source = sources().get(file_name)
            return None if source is None else (source, None, lambda: False)

        env = SandboxedEnvironment(
            loader=ChoiceLoader([FunctionLoader(load), FileSystemLoader(self.directory)]), autoescape=True,
            auto_reload=False,
        )
        # The shipped templates rendered in this environment need what the main environment offers; overrides
        # can name only what sandbox.ALLOWED_NAMES / ALLOWED_FILTERS permit (checked at save).
        i18n.install_jinja(env)
        env.filters.update(self.base_env.filters)
        env.globals.update(self.base_env.globals)
        return env

    def known_templates(self) -> set[str]:
        return {str(p.relative_to(self.directory)) for p in self.directory.rglob("*.html")}

    def shipped_source(self, file_name: str) -> str:
        return (self.directory / file_name).read_text(encoding="utf-8")

    def _refs(self, file_name: str, sources: Mapping[str, str]) -> set[str]:
        source = sources.get(file_name)
        if source is None:
            try:
                source = self.shipped_source(file_name)
            except OSError:
                return set()
        try:
            return {r for r in meta.find_referenced_templates(self.env.parse(source)) if r}
        except TemplateError:
            return set()

    def reachable(self, file_name: str, sources: Mapping[str, str] | None = None) -> frozenset[str]:
        use_cache = sources is None
        if use_cache and file_name in self._reach:
            return self._reach[file_name]
        srcs = self.published if sources is None else sources
        seen: set[str] = set()
        todo = [file_name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            todo.extend(self._refs(current, srcs) - seen)
        result = frozenset(seen)
        if use_cache:
            self._reach[file_name] = result
        return result

    def affects(self, file_name: str) -> bool:
        return bool(self.published) and bool(self.reachable(file_name) & self.published.keys())

    def replace(self, token: str, published: dict[str, str]) -> None:
        self.published = published
        self._reach = {}
        self.env = self._make_env(lambda: self.published)
        self.token = token

    async def sync(self, cache: Cache, sessions: async_sessionmaker[AsyncSession]) -> None:
        token = await cache.version(VERSION_KEY)
        if token == self.token:
            return
        async with sessions() as db:
            rows = (await db.execute(select(TemplateVersion.name, TemplateVersion.source)
                                     .where(TemplateVersion.status == "published"))).all()
        self.replace(token, {TEMPLATE_FILES[n]: s for n, s in rows if n in TEMPLATE_FILES})

    def render_with(self, file_name: str, context: Mapping[str, Any], extra: Mapping[str, str]) -> str:
        """Render ``file_name`` with ``extra`` overrides on top of the published ones (preview); raises."""
        sources = {**self.published, **extra}
        env = self._make_env(lambda: sources)
        return env.get_template(file_name).render(**context)


class _PageTemplate:
    """What the engine hands Litestar: renders through the overrides when they touch this page."""

    def __init__(self, engine: SiteTemplateEngine, name: str, shipped: JinjaTemplate) -> None:
        self.engine = engine
        self.name = name
        self.shipped = shipped

    def render(self, *args: Any, **context: Any) -> str:
        registry = self.engine.overrides
        if registry is not None and registry.affects(self.name):
            try:
                return registry.env.get_template(self.name).render(*args, **context)
            except Exception:
                log.exception("template override failed on %s; the shipped template serves the page", self.name)
        return self.shipped.render(*args, **context)


class SiteTemplateEngine(JinjaTemplateEngine):
    """Litestar's Jinja engine with the override chain in front of ``templates/``."""

    overrides: OverrideRegistry | None = None

    def get_template(self, template_name: str) -> Any:
        shipped = super().get_template(template_name)
        return _PageTemplate(self, template_name, shipped)

    def enable_overrides(self, directory: Path) -> OverrideRegistry:
        self.overrides = OverrideRegistry(directory, self.engine)
        return self.overrides


class TemplateSyncMiddleware:
    """Before each page request, reload the published overrides if another process published a version."""

    SKIP = ("/api/", "/static/", "/media/", "/ws/", "/schema")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and not scope["path"].startswith(self.SKIP):
            app = scope["litestar_app"]
            registry: OverrideRegistry | None = getattr(app.template_engine, "overrides", None)
            if registry is not None:
                try:
                    await registry.sync(app.state.cache, app.state.session_factory)
                except Exception:  # the cache or database is down: keep serving what we have
                    log.exception("template override sync failed")
        await self.app(scope, receive, send)


# --- the use cases ---------------------------------------------------------------------------------------------


def version_out(row: TemplateVersion, author: str | None) -> dict[str, Any]:
    return {"version": row.version, "status": row.status, "author": author, "created_at": iso(row.created_at),
            "published_at": iso(row.published_at)}


class TemplateService:
    def __init__(self, session: AsyncSession, registry: OverrideRegistry, cache: Cache | None = None) -> None:
        self.session = session
        self.registry = registry
        self.cache = cache

    async def overview(self) -> list[dict[str, Any]]:
        rows = (await self.session.execute(select(TemplateVersion.name, TemplateVersion.version)
                                           .where(TemplateVersion.status == "published"))).all()
        published: dict[str, int] = {str(name): int(version) for name, version in rows}
        return [{"name": name, "file": file, "overridden": name in published,
                 "published_version": published.get(name)} for name, file in TEMPLATE_FILES.items()]

    async def versions(self, name: str) -> list[tuple[TemplateVersion, str | None]]:
        file_for(name)
        rows = (await self.session.execute(
            select(TemplateVersion, User.username).outerjoin(User, User.id == TemplateVersion.author_id)
            .where(TemplateVersion.name == name).order_by(TemplateVersion.version.desc()))).all()
        return [(row, username) for row, username in rows]

    async def detail(self, name: str) -> dict[str, Any]:
        file_name = file_for(name)
        return {"name": name, "file": file_name, "shipped_source": self.registry.shipped_source(file_name),
                "versions": [version_out(row, author) for row, author in await self.versions(name)]}

    async def get_version(self, name: str, version: int) -> TemplateVersion:
        file_for(name)
        row = await self.session.scalar(select(TemplateVersion).where(TemplateVersion.name == name,
                                                                     TemplateVersion.version == version))
        if row is None:
            raise NotFound("“%(name)s” has no version %(version)s.", name=name, version=version)
        return row

    def check(self, name: str, source: object) -> str:
        file_name = file_for(name)
        if not isinstance(source, str) or not source.strip():
            raise InvalidInput("source must be a non-empty string.")
        check_source(name, source, file_name=file_name, known_templates=self.registry.known_templates(),
                     env=self.registry.env)
        return source

    async def save_draft(self, name: str, source: object, author_id: int | None) -> TemplateVersion:
        text = self.check(name, source)
        latest = await self.session.scalar(select(func.max(TemplateVersion.version))
                                           .where(TemplateVersion.name == name))
        row = TemplateVersion(name=name, version=int(latest or 0) + 1, source=text, status="draft",
                              author_id=author_id, created_at=utcnow())
        self.session.add(row)
        await self.session.flush()
        return row

    async def publish(self, name: str, version: int) -> TemplateVersion:
        row = await self.get_version(name, version)
        # re-checked: the policy may have tightened since the draft was saved
        self.check(name, row.source)
        await self.session.execute(update(TemplateVersion).where(
            TemplateVersion.name == name, TemplateVersion.status == "published", TemplateVersion.id != row.id)
            .values(status="retired"))
        row.status = "published"
        row.published_at = utcnow()
        await self.session.flush()
        await self._changed()
        return row

    async def revert(self, name: str) -> None:
        file_for(name)
        await self.session.execute(update(TemplateVersion).where(
            TemplateVersion.name == name, TemplateVersion.status == "published").values(status="retired"))
        await self.session.flush()
        await self._changed()

    async def _changed(self) -> None:
        """Bump now (this request's own next page) and again after the commit (every process, no stale race)."""
        cache = self.cache
        if cache is None:
            return
        await cache.bump(VERSION_KEY)
        after_commit(self.session, lambda: cache.bump(VERSION_KEY))

    async def diff(self, name: str, version: int) -> str:
        """Unified diff of ``version`` against the version before it (the shipped file for the first one)."""
        row = await self.get_version(name, version)
        previous = await self.session.scalar(
            select(TemplateVersion).where(TemplateVersion.name == name, TemplateVersion.version < version)
            .order_by(TemplateVersion.version.desc()).limit(1))
        before = previous.source if previous else self.registry.shipped_source(file_for(name))
        label = f"v{previous.version}" if previous else "shipped"
        return "".join(difflib.unified_diff(before.splitlines(keepends=True), row.source.splitlines(keepends=True),
                                            fromfile=label, tofile=f"v{version}"))

    def preview(self, name: str, source: str, page_file: str, context: Mapping[str, Any]) -> str:
        """Render ``page_file`` with ``source`` standing in for ``name``; a render error is a 400 naming the line."""
        self.check(name, source)
        try:
            return self.registry.render_with(page_file, context, {file_for(name): source})
        except TemplateError as exc:
            raise UnsafeTemplate(getattr(exc, "lineno", None), f"render error: {exc}") from None
        except Exception as exc:
            raise InvalidInput(f"render error: {type(exc).__name__}: {exc}") from None
