"""Live-bid fan-out: 1,000 websocket watchers on one auction; time from a bid to the last watcher's receipt.

    python bench/fanout.py [--watchers 1000] [--bids 20] [--workers 2]

Starts ``uvicorn marketplace.app:create_app_from_env --factory`` on a scratch PostgreSQL database with
MARKETPLACE_REDIS_URL set (with several workers the watchers spread over processes and every bid crosses Redis
pub/sub), opens N websockets to ``/ws/listings/{id}``, then places bids one at a time over HTTP and records,
per bid, when each watcher received it (the watchers are spread over a few client processes, as 1,000
browsers would be, timed on the shared monotonic clock). Prints p50/p99 over the bids of "bid accepted (201 received) → last
watcher received", and of "POST sent → last watcher received" (which includes the bid transaction itself).
"""

# ruff: noqa: E501, ASYNC210, ASYNC220 - a benchmark driver: long SQL lines, blocking setup calls are fine
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bids import REDIS, create_db, drop_db, free_port, seed  # noqa: E402


def pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def watcher_process(port: int, listing_id: int, n: int, bids: int, conn: Any) -> None:
    """One client process holding ``n`` watchers; reports, per bid_count, (first, last, count) receipt times on the
    system-wide monotonic clock (CLOCK_MONOTONIC is shared by every process on Linux)."""

    async def run() -> None:
        seen: dict[int, list[float]] = {}
        sockets = []
        for i in range(0, n, 100):
            sockets.extend(await asyncio.gather(*(
                websockets.connect(f"ws://127.0.0.1:{port}/ws/listings/{listing_id}", max_queue=None)
                for _ in range(min(100, n - i)))))
        for ws in sockets:
            json.loads(await ws.recv())  # snapshot
        conn.send("ready")

        async def listen(ws: Any) -> None:
            async for raw in ws:
                now = time.monotonic()
                msg = json.loads(raw)
                if msg.get("type") == "bid":
                    seen.setdefault(msg["bid_count"], []).append(now)
                    if msg["bid_count"] >= bids:
                        return

        try:
            await asyncio.wait_for(asyncio.gather(*(listen(ws) for ws in sockets)), timeout=120)
        finally:
            conn.send({k: (min(v), max(v), len(v)) for k, v in seen.items()})
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    asyncio.run(run())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--bids", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client-procs", type=int, default=4,
                        help="processes the watchers are spread over (1,000 browsers are not one Python loop)")
    args = parser.parse_args()

    dbname = f"marketplace_bench_fanout_{os.getpid()}"
    url = await create_db(dbname)
    listing_id, tokens = await seed(url, 2)
    port = free_port()
    env = {**os.environ, "MARKETPLACE_DATABASE_URL": url, "MARKETPLACE_REDIS_URL": REDIS,
           "MARKETPLACE_BID_RATE_LIMIT": "100000000", "MARKETPLACE_SECRET_KEY": "bench-secret-0123456789abcdef012345",
           "MARKETPLACE_DATA_DIR": tempfile.mkdtemp(prefix="bench-var-"), "MARKETPLACE_PAYMENT_GATEWAY": "sandbox", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "marketplace.app:create_app_from_env", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(args.workers), "--log-level", "warning", "--no-access-log",
         "--ws", "websockets-sansio"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    procs: list[multiprocessing.Process] = []
    try:
        for _ in range(200):
            try:
                if httpx.get(base + f"/api/v1/listings/{listing_id}/bids", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        started = time.monotonic()
        pipes = []
        share = [args.watchers // args.client_procs + (i < args.watchers % args.client_procs)
                 for i in range(args.client_procs)]
        for n in share:
            parent, child = multiprocessing.Pipe()
            proc = multiprocessing.Process(target=watcher_process, args=(port, listing_id, n, args.bids, child))
            proc.start()
            procs.append(proc)
            pipes.append(parent)
        for pipe in pipes:
            assert await asyncio.to_thread(pipe.recv) == "ready"
        print(f"{args.watchers} watchers connected in {time.monotonic() - started:.1f}s "
              f"over {args.client_procs} client processes")

        posts: dict[int, tuple[float, float]] = {}
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for k in range(1, args.bids + 1):
                t_post = time.monotonic()
                r = await http.post(f"/api/v1/listings/{listing_id}/bids", json={"max_amount": 1000 * k},
                                    headers={"Authorization": f"Bearer {tokens[k % 2]}"})
                t_201 = time.monotonic()
                assert r.status_code == 201, r.text
                posts[r.json()["bid_count"]] = (t_post, t_201)
                await asyncio.sleep(0.25)
        reports = [await asyncio.to_thread(pipe.recv) for pipe in pipes]
        after_201, after_post, first_seen = [], [], []
        for count, (t_post, t_201) in posts.items():
            parts = [rep[count] for rep in reports if count in rep]
            received = sum(p[2] for p in parts)
            if received < args.watchers:
                print(f"bid {count}: only {received} of {args.watchers} watchers received it")
                continue
            last = max(p[1] for p in parts)
            after_201.append(max(last - t_201, 0.0))
            after_post.append(last - t_post)
            first_seen.append(min(p[0] for p in parts) - t_post)
        print(f"fan-out to {args.watchers} watchers ({args.workers} uvicorn workers, Redis pub/sub), "
              f"{len(after_201)} bids:")
        print(f"  bid accepted (201) → last watcher:  p50 {pct(after_201, 50) * 1000:6.1f} ms   "
              f"p99 {pct(after_201, 99) * 1000:6.1f} ms")
        print(f"  POST sent → last watcher:           p50 {pct(after_post, 50) * 1000:6.1f} ms   "
              f"p99 {pct(after_post, 99) * 1000:6.1f} ms")
        print(f"  POST sent → first watcher:          p50 {pct(first_seen, 50) * 1000:6.1f} ms   "
              f"p99 {pct(first_seen, 99) * 1000:6.1f} ms")
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
        server.terminate()
        server.wait(timeout=15)
        await drop_db(dbname)


if __name__ == "__main__":
    asyncio.run(main())
