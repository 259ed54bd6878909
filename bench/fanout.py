"""Live-bid fan-out: 1,000 websocket watchers on one auction; time from a bid to the last watcher's receipt.

    python bench/fanout.py [--watchers 1000] [--bids 20] [--workers 2]

Starts ``uvicorn marketplace.app:create_app_from_env --factory`` on a scratch PostgreSQL database with
MARKETPLACE_REDIS_URL set (with several workers the watchers spread over processes and every bid crosses Redis
pub/sub), opens N websockets to ``/ws/listings/{id}``, then places bids one at a time over HTTP and records,
per bid, when each watcher received it. Prints p50/p99 over the bids of "bid accepted (201 received) → last
watcher received", and of "POST sent → last watcher received" (which includes the bid transaction itself).
"""

# ruff: noqa: E501, ASYNC110, ASYNC210, ASYNC220 - a benchmark driver: long SQL lines, blocking setup calls are fine
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bids import REDIS, create_db, drop_db, free_port, seed  # noqa: E402


def pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--bids", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    dbname = f"marketplace_bench_fanout_{os.getpid()}"
    url = await create_db(dbname)
    listing_id, tokens = await seed(url, 2)
    port = free_port()
    env = {**os.environ, "MARKETPLACE_DATABASE_URL": url, "MARKETPLACE_REDIS_URL": REDIS,
           "MARKETPLACE_BID_RATE_LIMIT": "100000000", "MARKETPLACE_SECRET_KEY": "bench-secret-0123456789abcdef012345",
           "MARKETPLACE_DATA_DIR": tempfile.mkdtemp(prefix="bench-var-"), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "marketplace.app:create_app_from_env", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(args.workers), "--log-level", "warning", "--no-access-log",
         "--ws", "websockets-sansio"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    received: dict[int, list[float]] = {}
    sockets: list[websockets.ClientConnection] = []
    try:
        for _ in range(200):
            try:
                if httpx.get(base + f"/api/v1/listings/{listing_id}/bids", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)

        async def connect() -> websockets.ClientConnection:
            ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws/listings/{listing_id}", max_queue=None)
            json.loads(await ws.recv())  # snapshot
            return ws

        started = time.perf_counter()
        for i in range(0, args.watchers, 100):
            sockets.extend(await asyncio.gather(*(connect() for _ in range(min(100, args.watchers - i)))))
        print(f"{len(sockets)} watchers connected in {time.perf_counter() - started:.1f}s")

        async def listen(ws: websockets.ClientConnection) -> None:
            async for raw in ws:
                now = time.perf_counter()
                msg = json.loads(raw)
                if msg.get("type") == "bid":
                    received.setdefault(msg["bid_count"], []).append(now)

        listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
        after_201: list[float] = []
        after_post: list[float] = []
        first_seen: list[float] = []
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for k in range(1, args.bids + 1):
                token = tokens[k % 2]
                t_post = time.perf_counter()
                r = await http.post(f"/api/v1/listings/{listing_id}/bids", json={"max_amount": 1000 * k},
                                    headers={"Authorization": f"Bearer {token}"})
                t_201 = time.perf_counter()
                assert r.status_code == 201, r.text
                count = r.json()["bid_count"]
                deadline = time.perf_counter() + 10
                while len(received.get(count, ())) < len(sockets) and time.perf_counter() < deadline:
                    await asyncio.sleep(0.001)
                times = received.get(count, [])
                if len(times) < len(sockets):
                    print(f"bid {k}: only {len(times)} of {len(sockets)} watchers received it")
                    continue
                last = max(times)
                first_seen.append(min(times) - t_post)
                after_201.append(max(last - t_201, 0.0))
                after_post.append(last - t_post)
                await asyncio.sleep(0.2)
        for task in listeners:
            task.cancel()
        print(f"fan-out to {len(sockets)} watchers ({args.workers} uvicorn workers, Redis pub/sub), {len(after_201)} bids:")
        print(f"  bid accepted (201) → last watcher:  p50 {pct(after_201, 50) * 1000:6.1f} ms   "
              f"p99 {pct(after_201, 99) * 1000:6.1f} ms")
        print(f"  POST sent → last watcher:           p50 {pct(after_post, 50) * 1000:6.1f} ms   "
              f"p99 {pct(after_post, 99) * 1000:6.1f} ms")
        print(f"  POST sent → first watcher:          p50 {pct(first_seen, 50) * 1000:6.1f} ms   "
              f"p99 {pct(first_seen, 99) * 1000:6.1f} ms")
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        server.terminate()
        server.wait(timeout=15)
        await drop_db(dbname)


if __name__ == "__main__":
    asyncio.run(main())
