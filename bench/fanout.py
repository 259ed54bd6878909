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
        # Small groups and a long handshake timeout: on a busy 2-core box 100 handshakes at once (each one a
        # snapshot read from the database) outlast websockets' default 10 s open_timeout.
        for i in range(0, n, 25):
            sockets.extend(await asyncio.gather(*(
                websockets.connect(f"ws://127.0.0.1:{port}/ws/listings/{listing_id}", max_queue=None,
                                   open_timeout=120)
                for _ in range(min(25, n - i)))))
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


BARE_SERVER = """
import asyncio, json, sys
import websockets

watchers = set()

async def handler(ws):
    if ws.request.path == "/trigger":  # the bid stand-in: broadcast, then answer (as the app answers 201)
        async for raw in ws:
            websockets.broadcast(watchers, json.dumps({"type": "bid", "bid_count": int(raw)}))
            await ws.send("ok")
        return
    await ws.send(json.dumps({"type": "snapshot"}))
    watchers.add(ws)
    try:
        await ws.wait_closed()
    finally:
        watchers.discard(ws)

async def main():
    async with websockets.serve(handler, "127.0.0.1", int(sys.argv[1]), max_queue=None):
        await asyncio.Future()

asyncio.run(main())
"""


async def _wait_port(port: int) -> None:
    for _ in range(300):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)


async def _fan_out(port: int, listing_id: int, watchers: int, bids: int, client_procs: int,
                   send_bid: Any) -> dict[str, float]:
    """Connect ``watchers`` over ``client_procs`` processes, send ``bids`` bids one at a time through
    ``send_bid(k) -> (t_sent, t_accepted, bid_count)``, and return p50/p99 of accepted → last watcher."""
    procs: list[multiprocessing.Process] = []
    try:
        pipes = []
        share = [watchers // client_procs + (i < watchers % client_procs) for i in range(client_procs)]
        for n in share:
            parent, child = multiprocessing.Pipe()
            proc = multiprocessing.Process(target=watcher_process, args=(port, listing_id, n, bids, child))
            proc.start()
            procs.append(proc)
            pipes.append(parent)
        for pipe in pipes:
            assert await asyncio.to_thread(pipe.recv) == "ready"
        posts: dict[int, tuple[float, float]] = {}
        for k in range(1, bids + 1):
            t_post, t_ok, count = await send_bid(k)
            posts[count] = (t_post, t_ok)
            await asyncio.sleep(0.25)
        reports = [await asyncio.to_thread(pipe.recv) for pipe in pipes]
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
    after_ok, after_post, missed = [], [], 0
    for count, (t_post, t_ok) in posts.items():
        parts = [rep[count] for rep in reports if count in rep]
        if sum(p[2] for p in parts) < watchers:
            missed += 1
            continue
        last = max(p[1] for p in parts)
        after_ok.append(max(last - t_ok, 0.0))
        after_post.append(last - t_post)
    return {"watchers": watchers, "bids": len(after_ok), "incomplete_bids": missed,
            "p50_ms": round(pct(after_ok, 50) * 1000, 1), "p99_ms": round(pct(after_ok, 99) * 1000, 1),
            "post_to_last_p99_ms": round(pct(after_post, 99) * 1000, 1)}


async def measure_bare(watchers: int = 1000, bids: int = 30, client_procs: int = 4) -> dict[str, float]:
    """The same fan-out from a bare ``websockets`` server (one process, ``websockets.broadcast``): the anchor."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(port)])
    try:
        await _wait_port(port)
        async with websockets.connect(f"ws://127.0.0.1:{port}/trigger") as trigger:
            async def send(k: int) -> tuple[float, float, int]:
                t0 = time.monotonic()
                await trigger.send(str(k))
                await trigger.recv()
                return t0, time.monotonic(), k

            return await _fan_out(port, 1, watchers, bids, client_procs, send)
    finally:
        server.terminate()
        server.wait(timeout=15)


async def measure(watchers: int = 1000, bids: int = 30, workers: int = 2, client_procs: int = 4) -> dict[str, Any]:
    """The app's fan-out (uvicorn workers + Redis pub/sub) on a scratch database, then the bare baseline."""
    dbname = f"marketplace_bench_fanout_{os.getpid()}"
    url = await create_db(dbname)
    server = None
    try:
        listing_id, tokens = await seed(url, 2)
        port = free_port()
        env = {**os.environ, "MARKETPLACE_DATABASE_URL": url, "MARKETPLACE_REDIS_URL": REDIS,
               "MARKETPLACE_BID_RATE_LIMIT": "100000000",
               "MARKETPLACE_SECRET_KEY": "bench-secret-0123456789abcdef012345",
               "MARKETPLACE_DATA_DIR": tempfile.mkdtemp(prefix="bench-var-"), "MARKETPLACE_PAYMENT_GATEWAY": "sandbox",
               "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "marketplace.app:create_app_from_env", "--factory", "--host",
             "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning",
             "--no-access-log", "--ws", "websockets-sansio"], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(base + f"/api/v1/listings/{listing_id}/bids", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            async def send(k: int) -> tuple[float, float, int]:
                t0 = time.monotonic()
                r = await http.post(f"/api/v1/listings/{listing_id}/bids", json={"max_amount": 1000 * k},
                                    headers={"Authorization": f"Bearer {tokens[k % 2]}"})
                assert r.status_code == 201, r.text
                return t0, time.monotonic(), int(r.json()["bid_count"])

            app = await _fan_out(port, listing_id, watchers, bids, client_procs, send)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        await drop_db(dbname)
    bare = await measure_bare(watchers, bids, client_procs)
    # The bare server answers the trigger after broadcast() has written every frame, so its "accepted → last" is
    # ~0; its anchor is the whole fan-out, trigger sent → last watcher received.
    anchor = bare["post_to_last_p99_ms"]
    return {"app": app, "bare": bare, "workers": workers, "anchor_p99_ms": anchor,
            "ratio": round(app["p99_ms"] / anchor, 2) if anchor else float("nan")}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--bids", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client-procs", type=int, default=4,
                        help="processes the watchers are spread over (1,000 browsers are not one Python loop)")
    args = parser.parse_args()
    r = await measure(args.watchers, args.bids, args.workers, args.client_procs)
    for name in ("app", "bare"):
        f = r[name]
        print(f"{name:4} fan-out to {f['watchers']} watchers, {f['bids']} bids ({f['incomplete_bids']} incomplete): "
              f"accepted → last watcher p50 {f['p50_ms']:6.1f} ms  p99 {f['p99_ms']:6.1f} ms")
    print(f"bare trigger sent → last watcher p99 {r['anchor_p99_ms']:.1f} ms; "
          f"ratio app p99 / bare p99 = {r['ratio']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
