"""Cached listing page (HTML) throughput beside a Litestar hello-world app, in the same run.

    python bench/cached_page.py [--seconds 10] [--concurrency 16] [--redis redis://127.0.0.1:6379/14]

Builds a fresh SQLite database with the migrations and one fixed-price listing, starts the marketplace with
uvicorn (embedded mode, or with --redis the production cache store), starts a one-route Litestar app the same way,
then drives both with the same lean HTTP load generator (bench/httpload.py) for the same time: anonymous
GET /listings/{id} (served from the page cache after the first request) and GET / on hello-world. Prints req/s
of each and the ratio (goal: ≥ 0.4 of hello-world, docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from litestar import Litestar, get

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.httpload import Connection  # noqa: E402


@get("/", sync_to_thread=False)
def hello() -> str:
    return "Hello, world!"


hello_app = Litestar([hello])
logging.getLogger("httpx").setLevel(logging.WARNING)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(target: str, port: int, env: dict[str, str], factory: bool = False) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port), "--log-level",
           "warning", "--no-access-log"]
    if factory:
        cmd.append("--factory")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{target} did not start")


async def _load(url: str, seconds: float, concurrency: int) -> float:
    """Requests per second from ``concurrency`` keep-alive connections of the lean client (bench/httpload.py)."""
    done = 0
    stop = time.monotonic() + seconds
    parts = urlsplit(url)
    base, path = f"{parts.scheme}://{parts.netloc}", parts.path + (f"?{parts.query}" if parts.query else "")
    conns = [Connection(base) for _ in range(concurrency)]
    try:
        for _ in range(20):  # warm-up (fills the page cache)
            r = await conns[0].get(path)
            if r.status_code != 200:
                raise RuntimeError(f"{url}: {r.status_code}")
        started = time.monotonic()

        async def worker(conn: Connection) -> None:
            nonlocal done
            while time.monotonic() < stop:
                r = await conn.get(path)
                if r.status_code == 200:
                    done += 1

        await asyncio.gather(*(worker(c) for c in conns))
        return done / (time.monotonic() - started)
    finally:
        for c in conns:
            await c.close()


async def _seed(url: str) -> int:
    from marketplace import migrate
    from marketplace.db import create_engine, session_factory
    from tests.factories import make_category, make_listing, quick_user

    await migrate.upgrade_async(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s, s.begin():
            seller = await quick_user(s)
            listing = await make_listing(s, seller, await make_category(s, "Bench 基准"), title="Bench lamp 台灯",
                                         price=120, description="A lamp used to measure the page cache.")
            return int(listing.id)
    finally:
        await engine.dispose()


async def measure(quick: bool = False, seconds: float | None = None, concurrency: int = 16,
                  redis: str | None = None) -> dict[str, float | str]:
    """P5 of bench/run.py: the cached listing page and hello-world, each on one uvicorn process started with the
    same flags, driven by the same load generator for the same time, in interleaved halves."""
    seconds = seconds if seconds is not None else (5 if quick else 10)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        listing_id = await _seed(db_url)
        env = {**os.environ, "MARKETPLACE_DATABASE_URL": db_url, "MARKETPLACE_DATA_DIR": f"{tmp}/var",
               "MARKETPLACE_MEDIA_DIR": f"{tmp}/var/media", "MARKETPLACE_REDIS_URL": redis or "",
               "MARKETPLACE_EMBEDDED_JOBS": "1", "PYTHONPATH": str(ROOT)}
        if not redis:
            env.pop("MARKETPLACE_REDIS_URL")
        app_port, hello_port = _free_port(), _free_port()
        app = _start("marketplace.app:create_app_from_env", app_port, env, factory=True)
        hello_proc = _start("bench.cached_page:hello_app", hello_port, env)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                page = await client.get(f"http://127.0.0.1:{app_port}/listings/{listing_id}")
            page.raise_for_status()
            assert "Bench lamp" in page.text
            # Interleaved halves (page, hello, page, hello) so that a change of load on a shared machine hits
            # both sides alike.
            cached_runs, hello_runs = [], []
            for _ in range(2):
                cached_runs.append(await _load(f"http://127.0.0.1:{app_port}/listings/{listing_id}", seconds / 2,
                                               concurrency))
                hello_runs.append(await _load(f"http://127.0.0.1:{hello_port}/", seconds / 2, concurrency))
            cached, hello_rps = sum(cached_runs) / 2, sum(hello_runs) / 2
        finally:
            for proc in (app, hello_proc):
                proc.terminate()
                proc.wait(timeout=10)
    ratio = cached / hello_rps if hello_rps else 0.0
    return {"store": "redis" if redis else "memory", "seconds": seconds, "concurrency": concurrency,
            "cached_page_req_s": round(cached, 1), "hello_world_req_s": round(hello_rps, 1),
            "ratio": round(ratio, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--redis", default=None, help="a Redis URL: use the production cache store")
    args = parser.parse_args()
    r = asyncio.run(measure(seconds=args.seconds, concurrency=args.concurrency, redis=args.redis))
    print(f"cached listing page ({r['store']} store): {r['cached_page_req_s']:8.1f} req/s")
    print(f"litestar hello-world:              {r['hello_world_req_s']:8.1f} req/s")
    ratio = float(r["ratio"])
    print(f"ratio: {ratio:.2f} (goal >= 0.40) {'OK' if ratio >= 0.4 else 'BELOW GOAL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
