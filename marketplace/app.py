"""``create_app(settings)``: the Litestar application with its plugins, stores, channels, jobs and routes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, Router
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.flash import FlashConfig, FlashPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.template import TemplateConfig
from redis.asyncio import Redis

from marketplace import i18n, jobs, wiring
from marketplace.accounts import api as accounts_api
from marketplace.accounts import views as accounts_views
from marketplace.accounts.auth import AccountLookup
from marketplace.accounts.services import TokenCache
from marketplace.addresses import api as addresses_api
from marketplace.addresses import views as addresses_views
from marketplace.admin import api as admin_api
from marketplace.admin import views as admin_views
from marketplace.auctions import api as auctions_api
from marketplace.auctions import live as auctions_live
from marketplace.auctions import views as auctions_views
from marketplace.auctions.batching import BidBatcher
from marketplace.auctions.deps import provide_listing_panel, provide_listing_published
from marketplace.cache import Cache, WriteTrackingMiddleware, set_process_cache
from marketplace.cards import api as cards_api
from marketplace.cards import views as cards_views
from marketplace.cards.deps import provide_card_service
from marketplace.categories import api as categories_api
from marketplace.categories import views as categories_views
from marketplace.categories.services import CategoryNavigation
from marketplace.db import Base, create_engine, drain_after_commit, session_factory
from marketplace.listings import api as listings_api
from marketplace.listings import questions as listing_questions
from marketplace.listings import views as listings_views
from marketplace.listings.deps import provide_listing_service
from marketplace.localtime import current_zone
from marketplace.membership import api as membership_api
from marketplace.membership import views as membership_views
from marketplace.notifications import api as notifications_api
from marketplace.notifications import live as notifications_live
from marketplace.notifications import views as notifications_views
from marketplace.notifications.services import UnreadInbox
from marketplace.orders import api as orders_api
from marketplace.orders import messages as order_messages
from marketplace.orders import views as orders_views
from marketplace.settings import Settings
from marketplace.shops import api as shops_api
from marketplace.shops import views as shops_views
from marketplace.shops.deps import provide_shop_service
from marketplace.site import api as site_api
from marketplace.site import views as site_views
from marketplace.site.templates import SiteTemplateEngine, TemplateSyncMiddleware
from marketplace.wallet import api as wallet_api
from marketplace.wallet import views as wallet_views
from marketplace.web import contract, outage
from marketplace.web.auth import AuthMiddleware, provide_optional_user, provide_user
from marketplace.web.clientip import parse_trusted
from marketplace.web.errors import EXCEPTION_HANDLERS
from marketplace.web.filters import FILTERS, now_utc, safe_flashes
from marketplace.web.locale import LocaleMiddleware
from marketplace.web.pagecache import FrontPageCache, PageCacheMiddleware
from marketplace.web.ratelimit import MemoryRateLimiter, RedisRateLimiter
from marketplace.web.security import SecurityHeadersMiddleware
from marketplace.web.sessions import RotatingSessionConfig
from marketplace.web.zone import ZoneMiddleware

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"

# The application's routes, listed explicitly: JSON handlers are mounted under /api/v1, HTML and websocket ones at
# the root. Each domain's HTTP modules expose ROUTES.
API_ROUTES: list[Any] = [
    *accounts_api.ROUTES, *categories_api.ROUTES, *listings_api.ROUTES, *wallet_api.ROUTES, *orders_api.ROUTES,
    *auctions_api.ROUTES, *shops_api.ROUTES, *admin_api.ROUTES, *cards_api.ROUTES, *notifications_api.ROUTES,
    *membership_api.ROUTES, *addresses_api.ROUTES, *listing_questions.API_ROUTES, *order_messages.API_ROUTES,
    *site_api.ROUTES,
]
VIEW_ROUTES: list[Any] = [
    *accounts_views.ROUTES, *categories_views.ROUTES, *listings_views.ROUTES, *wallet_views.ROUTES,
    *orders_views.ROUTES, *auctions_views.ROUTES, *auctions_live.ROUTES, *shops_views.ROUTES, *admin_views.ROUTES,
    *cards_views.ROUTES, *notifications_views.ROUTES, *notifications_live.ROUTES, *membership_views.ROUTES,
    *site_views.ROUTES, *addresses_views.ROUTES, *listing_questions.VIEW_ROUTES, *order_messages.VIEW_ROUTES,
]

log = logging.getLogger(__name__)


class ChannelsPublisher:
    def __init__(self, plugin: ChannelsPlugin) -> None:
        self.plugin = plugin

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self.plugin.publish(message, channels=[channel])


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    parse_trusted(settings.trusted_proxies)  # a malformed MARKETPLACE_TRUSTED_PROXIES fails at start, not per request
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    wiring.subscribe_all()
    i18n.load_catalogs()

    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None

    if redis is not None:
        stores: dict[str, Any] = {
            "sessions": RedisStore(redis, namespace="sessions"),
            "cache": RedisStore(redis, namespace="cache"),
        }
        channels_backend: Any = RedisChannelsPubSubBackend(redis=redis)
        rate_limiter: Any = RedisRateLimiter(redis)
    else:
        stores = {"sessions": FileStore(settings.data_dir / "sessions"), "cache": MemoryStore()}
        channels_backend = MemoryChannelsBackend()
        rate_limiter = MemoryRateLimiter()

    cache = Cache(stores["cache"])
    # Bearer tokens are cached only where every process shares the store (Redis): a ban must reach them all.
    token_cache = TokenCache(stores["cache"]) if redis is not None else None
    channels = ChannelsPlugin(backend=channels_backend, arbitrary_channels_allowed=True)
    publisher = ChannelsPublisher(channels)

    alchemy = SQLAlchemyPlugin(
        config=SQLAlchemyAsyncConfig(
            engine_instance=engine,
            session_config=AsyncSessionConfig(expire_on_commit=False),
            # A form POST answers 303: plain "autocommit" would roll it back (docs/architecture.md).
            before_send_handler="autocommit_include_redirects",
            metadata=Base.metadata,
            create_all=False,
            set_default_exception_handler=False,
        )
    )

    def engine_callback(engine: JinjaTemplateEngine) -> None:
        engine.engine.filters.update(FILTERS)
        i18n.install_jinja(engine.engine)
        engine.engine.globals["settings"] = settings
        engine.engine.globals["current_zone"] = current_zone
        engine.engine.globals["now_utc"] = now_utc
        engine.register_template_callable("safe_flashes", safe_flashes)

    template_config = TemplateConfig(directory=TEMPLATES_DIR, engine=SiteTemplateEngine,
                                     engine_callback=engine_callback)
    # The API never reads the session (bearer tokens only): without the exclusion every API response wrote a
    # new empty 14-day session to the store and sent a session cookie (a Redis SET and a cookie per bid).
    session_config = RotatingSessionConfig(
        secure=settings.cookies_secure, samesite="lax", max_age=14 * 24 * 3600,
        exclude=["/static", "/media", "/api/", "/healthz", "/readyz"],
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_secure=settings.cookies_secure,
        cookie_httponly=False,  # the live-bid script reads it to send the X-CSRFToken header
        # The API authenticates with bearer tokens only (never the cookie), the payment notify is signed by the
        # gateway, and websockets only push: none of them carries ambient credentials to forge.
        exclude=["/api/", "/payments/alipay/notify", "/ws/", "/schema"],
    )

    async def on_startup(app: Litestar) -> None:
        set_process_cache(app.state.cache)  # jobs' writes bump the cache versions too (docs/rules.md §18)
        contract.document_errors(app)
        if settings.run_jobs_in_process:
            queue = jobs.InProcessJobQueue(
                lambda q: jobs.JobContext(settings=settings, session_factory=sessions, queue=q, publisher=publisher)
            )
            queue.start_periodic()
            app.state.jobs = queue
            jobs.install_runtime(publisher, queue)
        else:
            from arq import create_pool
            from arq.connections import RedisSettings

            assert settings.redis_url is not None
            app.state.arq_pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
            app.state.jobs = jobs.ArqJobQueue(app.state.arq_pool)
            jobs.install_runtime(publisher, app.state.jobs)
        app.state.bid_batcher.jobs = app.state.jobs

    async def on_shutdown(app: Litestar) -> None:
        await drain_after_commit()
        queue = app.state.get("jobs")
        if jobs.RUNTIME.queue is queue:
            jobs.install_runtime(jobs.NullPublisher(), None)
        if isinstance(queue, jobs.InProcessJobQueue):
            await queue.close()
        if app.state.get("arq_pool") is not None:
            await app.state.arq_pool.aclose()
        if redis is not None:
            await redis.aclose()
        await engine.dispose()

    api = Router(path="/api/v1", route_handlers=API_ROUTES, tags=["api"])
    route_handlers: list[Any] = [
        api,
        *VIEW_ROUTES,
        *outage.ROUTES,
        create_static_files_router(path="/static", directories=[STATIC_DIR], cache_control=None,
                                   include_in_schema=False),
    ]

    app = Litestar(
        route_handlers=route_handlers,
        plugins=[alchemy, channels, FlashPlugin(config=FlashConfig(template_config=template_config))],
        template_config=template_config,
        stores=stores,
        csrf_config=csrf,
        # WriteTrackingMiddleware bumps the cache versions a write touched before its response body leaves;
        # PageCacheMiddleware answers anonymous page hits before routing; TemplateSyncMiddleware picks up template
        # overrides published by another process (docs/rules.md §18).
        middleware=[WriteTrackingMiddleware, session_config.middleware,
                    DefineMiddleware(AuthMiddleware, lookup=AccountLookup(sessions, token_cache),
                                     exclude=["/static", "/media", "/healthz", "/readyz"]),
                    LocaleMiddleware, ZoneMiddleware, PageCacheMiddleware, TemplateSyncMiddleware],
        dependencies={
            "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
            "user": Provide(provide_user),
            "optional_user": Provide(provide_optional_user),
            # the listings domain's service and the ports the auctions domain fills for its HTTP modules
            "listing_service": Provide(provide_listing_service, sync_to_thread=False),
            "shop_service": Provide(provide_shop_service, sync_to_thread=False),
            "card_service": Provide(provide_card_service, sync_to_thread=False),
            "listing_published": Provide(provide_listing_published, sync_to_thread=False),
            "listing_panel": Provide(provide_listing_panel, sync_to_thread=False, use_cache=True),
        },
        exception_handlers={**EXCEPTION_HANDLERS, **outage.OUTAGE_HANDLERS},
        openapi_config=OpenAPIConfig(title="Marketplace API", version="1.0.0", path="/schema"),
        before_request=contract.strict_json_body,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        debug=settings.debug,
    )
    # Outermost: headers on every response, error pages and static files included (web/security.py).
    # Inside them, anonymous page-cache hits without a session cookie are answered before routing (pagecache.py).
    app.asgi_handler = SecurityHeadersMiddleware(FrontPageCache(app.asgi_handler, session_config.key),
                                                 https=settings.https)
    app.state.settings = settings
    app.state.session_factory = sessions
    app.state.engine = engine
    app.state.redis = redis
    app.state.rate_limiter = rate_limiter
    app.state.cache = cache
    app.state.navigation = CategoryNavigation(cache)
    app.state.inbox = UnreadInbox()
    app.state.token_cache = token_cache
    assert isinstance(app.template_engine, SiteTemplateEngine)
    app.template_engine.enable_overrides(TEMPLATES_DIR)
    app.state.publisher = publisher
    # Bids on one auction in this process are applied in batches, one transaction each (auctions/batching.py).
    app.state.bid_batcher = BidBatcher(sessions, settings, publisher=publisher)
    app.state.channels = channels
    return app


def create_app_from_env() -> Litestar:
    """Factory for ``uvicorn --factory`` (``marketplace serve``): on PostgreSQL the payment gateway must be chosen."""
    from marketplace.wallet.gateway import NO_GATEWAY_MESSAGE

    settings = Settings.from_env()
    if not settings.gateway:
        raise SystemExit(f"refusing to start: {NO_GATEWAY_MESSAGE}")
    return create_app(settings)
