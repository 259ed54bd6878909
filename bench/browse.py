"""Browse and search latency on PostgreSQL with many listings.

    MARKETPLACE_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/marketplace_bench \
        python bench/browse.py [--listings 100000 | --million] [--requests 200] [--reseed]

Creates the database when it is missing, applies the migrations, bulk-loads users, the demo category tree and N
listings (bilingual titles, both modes) with COPY, then starts the app with uvicorn and measures, through the
JSON API, the latency of category browsing (a random category incl. descendants, random sort and page) and of
text search (Chinese and English terms), sequentially and with concurrent clients. Prints p50/p95/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.httpload import Connection  # noqa: E402
from marketplace import migrate  # noqa: E402
from marketplace.demo import CATEGORY_TREE  # noqa: E402
from marketplace.listings.tokens import index_text  # noqa: E402

console = Console()

CN_ADJ = ["二手", "全新", "九成新", "复古", "限量", "正品", "进口", "经典", "便携", "无线"]
CN_NOUN = ["手机", "相机", "笔记本电脑", "耳机", "手表", "自行车", "钱币", "邮票", "瓷器", "大衣", "运动鞋", "小说",
           "漫画", "铸铁锅", "沙发", "台灯", "吉他", "键盘", "显示器", "背包"]
EN_ADJ = ["vintage", "used", "new", "classic", "limited", "wireless", "portable", "leather", "silver", "rare"]
EN_NOUN = ["phone", "camera", "laptop", "headphones", "watch", "bicycle", "coin", "stamp", "vase", "coat",
           "sneakers", "novel", "manga", "skillet", "sofa", "lamp", "guitar", "keyboard", "monitor", "backpack"]
SEARCHES = ["手机", "九成新", "二手 相机", "笔记本电脑", "复古 手表", "camera", "vintage", "leather coat",
            "wireless headphones", "rare coin", "邮票", "guitar", "全新 耳机", "classic sofa"]
SELLERS = 2_000
CHUNK = 20_000


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def ensure_database(url: str) -> None:
    dsn = asyncpg_dsn(url)
    base, _, name = dsn.rpartition("/")
    try:
        conn = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(f"{base}/postgres")
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        console.print(f"created database [bold]{name}[/]")
    else:
        await conn.close()


async def seed_categories(conn: asyncpg.Connection) -> dict[int, list[str]]:
    """The demo tree; returns each leaf's id with its path's names (indexed with its listings' text)."""
    leaves: dict[int, list[str]] = {}

    async def add(nodes: list[Any], parent: int | None, path: list[str]) -> None:
        for position, (name, slug, children) in enumerate(nodes):
            cid = await conn.fetchval(
                "INSERT INTO categories (parent_id, name, slug, position, hidden, created_at) "
                "VALUES ($1, $2, $3, $4, false, now()) RETURNING id", parent, name, slug, position)
            if children:
                await add(children, cid, [*path, name])
            else:
                leaves[cid] = [*path, name]

    await add(CATEGORY_TREE, None, [])
    return leaves


def search_text(title: str, description: str, path: list[str]) -> str:
    """What the app's insert hook writes (marketplace/listings/models.py): the segmented, normalised tokens."""
    return index_text(title, description, path)


def listing_rows(count: int, start: int, leaves: dict[int, list[str]], seller_ids: list[int],
                 now: datetime, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    leaf_ids = list(leaves)
    for i in range(start, start + count):
        auction = rng.random() < 0.3
        title = (f"{rng.choice(CN_ADJ)}{rng.choice(CN_NOUN)} {rng.choice(EN_ADJ)} {rng.choice(EN_NOUN)} "
                 f"#{i}")
        description = (f"{rng.choice(CN_ADJ)}{rng.choice(CN_NOUN)}，成色很好。 A {rng.choice(EN_ADJ)} "
                       f"{rng.choice(EN_NOUN)} in good condition, ships in {rng.randint(1, 5)} days.")
        created = now - timedelta(seconds=rng.randint(0, 60 * 86400))
        price = rng.randint(1, 20_000)
        featured = rng.random() < 0.02
        if auction:
            ends = now + timedelta(seconds=rng.randint(600, 14 * 86400))
            seller, category = rng.choice(seller_ids), rng.choice(leaf_ids)
            yield (seller, category, title, description, "auction", "active", featured,
                   5, False, created, None, 1, 1, price, price, None, None, 86400, True, ends, 0, 0,
                   search_text(title, description, leaves[category]))
        else:
            qty = rng.randint(1, 20)
            seller, category = rng.choice(seller_ids), rng.choice(leaf_ids)
            yield (seller, category, title, description, "fixed", "active", featured,
                   2, False, created, price, qty, qty, price, None, None, None, None, True, None, 0, 0,
                   search_text(title, description, leaves[category]))


LISTING_COLUMNS = ["seller_id", "category_id", "title", "description", "mode", "status", "featured",
                   "insertion_fee", "free_listing", "created_at", "price", "quantity", "quantity_available",
                   "current_price", "start_price", "reserve_price", "buy_now_price", "duration_seconds",
                   "auto_extend", "ends_at", "bid_count", "version", "search_text"]


async def seed(url: str, n: int, reseed: bool) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        existing = await conn.fetchval("SELECT count(*) FROM listings")
        if existing >= n and not reseed:
            console.print(f"{existing:,} listings already there; use --reseed to start over")
            return
        await conn.execute("TRUNCATE listings, listing_images, categories, users, api_tokens, bids, orders, "
                           "order_events, feedback, ledger_entries, ledger_transactions, ledger_accounts, topups, "
                           "shops RESTART IDENTITY CASCADE")
        rng = random.Random(42)
        now = datetime.now(UTC)
        leaves = await seed_categories(conn)
        await conn.copy_records_to_table(
            "users", columns=["username", "username_key", "email", "password_hash", "is_admin", "is_banned",
                              "created_at"],
            records=[(f"seller{i}", f"seller{i}", f"seller{i}@example.com", "!", False, False, now)
                     for i in range(SELLERS)])
        seller_ids = [r["id"] for r in await conn.fetch("SELECT id FROM users")]
        # Build the indexes once at the end would be faster still, but they belong to the migrations; COPY into an
        # indexed table is fast enough for 10^6 rows.
        with Progress(TextColumn("[bold]seeding listings"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), console=console) as progress:
            task = progress.add_task("listings", total=n)
            done = 0
            while done < n:
                size = min(CHUNK, n - done)
                await conn.copy_records_to_table(
                    "listings", columns=LISTING_COLUMNS,
                    records=list(listing_rows(size, done, leaves, seller_ids, now, rng)))
                done += size
                progress.update(task, completed=done)
        # VACUUM too, not just ANALYZE: right after COPY no page is marked all-visible, so a category count
        # could not use its index-only scan (22 ms instead of 4.5 ms over 100,000 listings, docs/performance.md);
        # autovacuum does the same on a live database after this many inserts.
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


async def measure(client: httpx.AsyncClient, paths: list[str], concurrency: int) -> tuple[list[float], float]:
    """Latencies (ms) and req/s of ``paths`` spread over ``concurrency`` clients, each one keep-alive connection
    of the lean client (bench/httpload.py) to the server ``client`` points at (httpx would spend the CPU the
    server under test needs: docs/performance.md)."""
    latencies: list[float] = []
    queue = list(paths)
    base = str(client.base_url).rstrip("/")

    async def worker() -> None:
        async with Connection(base) as conn:
            while queue:
                path = queue.pop()
                started = time.perf_counter()
                r = await conn.get(path)
                latencies.append((time.perf_counter() - started) * 1000)
                if r.status_code != 200:
                    raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return latencies, len(paths) / (time.perf_counter() - started)


def _paths(categories: list[int], requests: int) -> tuple[list[str], list[str]]:
    rng = random.Random(7)
    sorts = ["newest", "price_asc", "price_desc", "ending_soon"]
    browse = [f"/api/v1/listings?category_id={rng.choice(categories)}&sort={rng.choice(sorts)}"
              f"&page={rng.randint(1, 5)}&per_page=20" for _ in range(requests)]
    search = [f"/api/v1/listings?q={rng.choice(SEARCHES)}&sort={rng.choice(sorts[:3])}&per_page=20"
              for _ in range(requests)]
    return browse, search


async def _serve(url: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-browse-"))
    env = {**os.environ, "MARKETPLACE_DATABASE_URL": url, "MARKETPLACE_DATA_DIR": str(tmp),
           "MARKETPLACE_PAYMENT_GATEWAY": "sandbox", "MARKETPLACE_MEDIA_DIR": str(tmp / "media"),
           "PYTHONPATH": str(ROOT)}
    env.pop("MARKETPLACE_REDIS_URL", None)
    server = subprocess.Popen(  # noqa: ASYNC220 - the server runs for the whole benchmark
        [sys.executable, "-m", "uvicorn", "marketplace.app:create_app_from_env", "--factory", "--host",
         "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
         *(["--workers", str(workers)] if workers > 1 else [])],
        env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for _ in range(150):
            try:
                if (await client.get("/api/v1/listings?per_page=1")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    return server, base


async def measure_p3(listings: int = 1_000_000, requests: int = 200, concurrency: int = 8,
                     workers: int = 1) -> dict[str, Any]:
    """P3 in one call: a scratch database (created and dropped here), N listings, then browse and search (1- and
    2-word, Chinese and English) with ``concurrency`` clients; ``p95_ms`` is the worse of the two p95s. Also the
    CPU per request of the app and of PostgreSQL, and the req/s that cost allows with every core busy: with
    ``concurrency`` clients the mean latency cannot be below ``concurrency`` ÷ req/s (Little's law)."""
    from bench.bids import backend_pids, cpu_seconds, process_tree
    name = f"marketplace_bench_browse_{os.getpid()}"
    admin_dsn = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    admin = await asyncpg.connect(f"{admin_dsn}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = f"postgresql+asyncpg://{admin_dsn.split('://', 1)[1]}/{name}"
    server = None
    try:
        await migrate.upgrade_async(url)
        started = time.perf_counter()
        await seed(url, listings, True)
        seeded = time.perf_counter() - started
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            categories = [r["id"] for r in await conn.fetch("SELECT id FROM categories")]
        finally:
            await conn.close()
        browse, search = _paths(categories, requests)
        server, base = await _serve(url, workers)
        out: dict[str, Any] = {"listings": listings, "clients": concurrency, "requests": requests,
                               "workers": workers, "seed_seconds": round(seeded, 1)}
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            await measure(client, browse[:20] + search[:20], 1)  # warm-up: pools, caches, plans
            server_pids, pg_pids = process_tree(server.pid), await backend_pids(name)
            cores = os.cpu_count() or 1
            for key, paths in (("browse", browse), ("search", search)):
                app0, pg0 = cpu_seconds(server_pids), cpu_seconds(pg_pids)
                latencies, rate = await measure(client, paths, concurrency)
                app_ms = (cpu_seconds(server_pids) - app0) / len(paths) * 1000
                pg_ms = (cpu_seconds(pg_pids) - pg0) / len(paths) * 1000
                out[f"{key}_p50_ms"] = round(percentile(latencies, 50), 1)
                out[f"{key}_p95_ms"] = round(percentile(latencies, 95), 1)
                out[f"{key}_req_s"] = round(rate, 1)
                out[f"{key}_app_cpu_ms"] = round(app_ms, 2)
                out[f"{key}_pg_cpu_ms"] = round(pg_ms, 2)
                out[f"{key}_cpu_bound_req_s"] = round(cores / ((app_ms + pg_ms) / 1000), 1) if app_ms + pg_ms else 0
        out["p95_ms"] = max(out["browse_p95_ms"], out["search_p95_ms"])
        return out
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        admin = await asyncpg.connect(f"{admin_dsn}/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def bench(url: str, requests: int, concurrency: int) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        categories = [r["id"] for r in await conn.fetch("SELECT id FROM categories")]
        total = await conn.fetchval("SELECT count(*) FROM listings")
    finally:
        await conn.close()
    browse, search = _paths(categories, requests)
    server, base = await _serve(url)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            await measure(client, browse[:20] + search[:20], 1)  # warm-up: pools, caches, plans
            table = Table(title=f"GET /api/v1/listings over {total:,} listings (PostgreSQL, 1 uvicorn worker)")
            for col in ("workload", "clients", "requests", "p50 ms", "p95 ms", "p99 ms", "mean ms", "req/s"):
                table.add_column(col, justify="right" if col != "workload" else "left")
            for name, paths in (("category browse", browse), ("text search", search)):
                for clients in (1, concurrency):
                    latencies, rate = await measure(client, paths, clients)
                    table.add_row(name, str(clients), str(len(paths)), f"{percentile(latencies, 50):.1f}",
                                  f"{percentile(latencies, 95):.1f}", f"{percentile(latencies, 99):.1f}",
                                  f"{statistics.fmean(latencies):.1f}", f"{rate:.0f}")
            console.print(table)
            # Which terms cost what.
            terms = Table(title="text search by term (sequential, sort=newest)")
            for col in ("q", "p50 ms", "max ms", "total"):
                terms.add_column(col, justify="right" if col != "q" else "left")
            for term in SEARCHES:
                path = f"/api/v1/listings?q={term}&per_page=20"
                latencies, _ = await measure(client, [path] * 10, 1)
                body = (await client.get(path)).json()
                shown = f"{body['total']:,}{'+' if body.get('total_capped') else ''}"
                terms.add_row(term, f"{percentile(latencies, 50):.1f}", f"{max(latencies):.1f}", shown)
            console.print(terms)
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="seed 1,000,000 listings")
    parser.add_argument("--requests", type=int, default=200, help="requests per workload")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--reseed", action="store_true", help="empty the database and seed again")
    args = parser.parse_args()
    url = os.environ.get("MARKETPLACE_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        console.print("[red]set MARKETPLACE_DATABASE_URL to a PostgreSQL URL, e.g. "
                      "postgresql+asyncpg://postgres@127.0.0.1:5432/marketplace_bench[/]")
        return 2
    n = 1_000_000 if args.million else args.listings
    asyncio.run(ensure_database(url))
    migrate.upgrade(url)
    started = time.perf_counter()
    asyncio.run(seed(url, n, args.reseed))
    console.print(f"seeding took {time.perf_counter() - started:.1f} s")
    asyncio.run(bench(url, args.requests, args.concurrency))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
