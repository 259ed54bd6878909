"""The ``marketplace`` command: demo, serve, worker, db, create-admin, ledger audit, check, cards report, cache."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from marketplace import demo, migrate, wiring
from marketplace.accounts.services import AccountService
from marketplace.cache import run_cache_cli
from marketplace.cards.demo import demo_card
from marketplace.cards.report import report
from marketplace.checks import production_report
from marketplace.db import create_engine, session_factory
from marketplace.errors import DomainError
from marketplace.listings.search import reindex_categories
from marketplace.settings import Settings
from marketplace.wallet.audit import run_audit_cli
from marketplace.wallet.gateway import NO_GATEWAY_MESSAGE
from marketplace.worker import worker_settings

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def _run(coro: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(coro)


async def _with_session(settings: Settings, fn: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await fn(session)
    finally:
        await engine.dispose()


def cmd_db(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.action == "upgrade":
        migrate.upgrade(settings.database_url, args.revision)
        print(f"database at {migrate.alembic_config(settings.database_url).get_main_option('script_location')}: "
              f"upgraded to {args.revision}")
    elif args.action == "reindex-search":
        async def reindex(session: Any) -> int:
            connection = await session.connection()
            return int(await connection.run_sync(reindex_categories))

        count = asyncio.run(_with_session(settings, reindex))
        print(f"{count} listings re-tokenised for search (listings.search_text)")
    else:
        migrate.check(settings.database_url)
        print("models and migrations agree")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    settings = Settings.from_env()

    async def create(session: Any) -> Any:
        return await AccountService(session).create_admin(args.username, args.email, args.password)

    try:
        user = asyncio.run(_with_session(settings, create))
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    print(f"admin {user.username} (id {user.id}) is ready")
    return 0


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    os.environ.setdefault("MARKETPLACE_DATABASE_URL", settings.database_url)
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1 (anyone on the host); the app reads
    # it only from MARKETPLACE_TRUSTED_PROXIES (web/clientip.py).
    uvicorn.run("marketplace.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                proxy_headers=False, log_level="info")


def cmd_serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if not settings.gateway:
        print(f"error: refusing to start. {NO_GATEWAY_MESSAGE}", file=sys.stderr)
        return 2
    if not args.no_migrate:
        migrate.upgrade(settings.database_url)
    _serve(settings, args.host, args.port, args.workers)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    # Demo defaults: embedded mode, short auctions allowed. Explicit environment variables still win.
    os.environ.setdefault("MARKETPLACE_MIN_AUCTION_SECONDS", "60")
    os.environ.pop("MARKETPLACE_REDIS_URL", None)
    url = f"http://{args.host}:{args.port}"
    # The payment notify_url is built from base_url: the demo's own address, whatever --port says.
    os.environ.setdefault("MARKETPLACE_BASE_URL", url)
    settings = Settings.from_env()
    migrate.upgrade(settings.database_url)
    seeded = asyncio.run(_with_session(settings, lambda s: demo.seed(s, settings)))
    print("\n  Coin Market demo" + (" (demo data created)" if seeded else " (existing data kept)"))
    print(f"  open {url}")
    print(f"  users: admin, alice, bob, carol (and auditor, a second admin; the members wang, liu, zhao)"
          f" — password {demo.DEMO_PASSWORD!r}")
    number, secret = demo_card()
    print(f"  prepaid card to redeem at {url}/cards/redeem: number {number}, secret {secret}\n")
    _serve(settings, args.host, args.port, 1)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from arq.worker import run_worker

    if not Settings.from_env().redis_url:
        print("error: the worker needs MARKETPLACE_REDIS_URL (embedded mode runs jobs inside `serve`)",
              file=sys.stderr)
        return 2
    run_worker(worker_settings())
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report = production_report(settings, os.environ)
    for note in report.notes:
        print(f"note: {note}")
    if report.ok:
        print("production settings: ok")
        return 0
    print(f"production settings: {len(report.problems)} problem(s)", file=sys.stderr)
    for problem in report.problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


def cmd_ledger(args: argparse.Namespace) -> int:
    return run_audit_cli(Settings.from_env())


def cmd_cache(args: argparse.Namespace) -> int:
    return run_cache_cli(Settings.from_env().redis_url, args.action)


def cmd_cards(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    print(asyncio.run(_with_session(settings, lambda s: report(s, settings))))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="marketplace", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="embedded mode with demo data on http://127.0.0.1:8000")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve the web application")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run the arq worker (production mode)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("db", help="database schema")
    # reindex-search: rewrite every listing's search words (after a change of marketplace/listings/tokens.py;
    # migration 0215_search_cn does it once for existing listings)
    p.add_argument("action", choices=["upgrade", "check", "reindex-search"])
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("create-admin", help="create (or promote) an administrator")
    p.add_argument("username")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.set_defaults(func=cmd_create_admin)

    p = sub.add_parser("check", help="verify the production settings; exit 1 listing what is wrong")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("ledger", help="ledger tools")
    p.add_argument("action", choices=["audit"])
    p.set_defaults(func=cmd_ledger)

    p = sub.add_parser("cache", help="the shared page cache: stats or purge (docs/rules.md §18)")
    p.add_argument("action", choices=["stats", "purge"])
    p.set_defaults(func=cmd_cache)

    p = sub.add_parser("cards", help="prepaid cards")
    p.add_argument("action", choices=["report"])
    p.set_defaults(func=cmd_cards)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    wiring.subscribe_all()  # the CLI is a composition root too (demo seeding, ledger audit, create-admin)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
