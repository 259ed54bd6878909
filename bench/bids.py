"""Bids per second on one hot auction over HTTP (PostgreSQL + Redis), beside pgbench on the same hot row.

    python bench/bids.py [--clients 16] [--seconds 10] [--workers 2]

Creates a scratch database, starts ``uvicorn marketplace.app:create_app_from_env --factory`` against it with
MARKETPLACE_REDIS_URL set (so live messages go through Redis pub/sub), funds N bidders with API tokens, and lets
N concurrent clients bid on one auction for a fixed time: each bid is a rising maximum, so nearly every bid is
accepted and takes the lead (the most expensive path: hold + release of the previous leader). Then pgbench runs,
with the same connection count, (a) only the hot-row part of a bid (lock the row, update it, insert the bid) and
(b) the whole SQL a bid transaction runs (hot row + ledger hold/release + ledger rows). Prints both ratios.
"""

# ruff: noqa: E501, ASYNC210, ASYNC220 - a benchmark driver: long SQL lines, blocking setup calls are fine
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.httpload import Connection  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/5")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def create_db(name: str) -> str:
    admin = await asyncpg.connect(f"{PG}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://{PG.split('://', 1)[1]}/{name}"


async def drop_db(name: str) -> None:
    admin = await asyncpg.connect(f"{PG}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def seed(url: str, n: int) -> tuple[int, list[str]]:
    import marketplace.models  # noqa: F401
    from marketplace import migrate
    from marketplace.accounts.models import User
    from marketplace.accounts.services import AccountService
    from marketplace.db import create_engine, session_factory
    from tests.factories import fund, make_listing

    await migrate.upgrade_async(url)
    engine = create_engine(url)
    tokens: list[str] = []
    async with session_factory(engine)() as s, s.begin():
        users = [User(username=f"bench{i}", email=f"bench{i}@example.com", password_hash="!") for i in range(n + 1)]
        s.add_all(users)
        await s.flush()
        for u in users[1:]:
            await fund(s, u.id, 10**12)
            tokens.append(await AccountService(s).issue_token(u))
        listing = await make_listing(s, users[0], mode="auction", start_price=1, duration_seconds=86400)
        listing_id = int(listing.id)
    await engine.dispose()
    return listing_id, tokens


async def run_clients(base: str, listing_id: int, tokens: list[str], seconds: float) -> tuple[int, int, list[float]]:
    counter = itertools.count(1)
    latencies: list[float] = []
    accepted = refused = 0
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def client(token: str) -> None:
        nonlocal accepted, refused
        headers = {"Authorization": f"Bearer {token}"}
        async with Connection(base, headers) as http:  # bench/httpload.py: a lean client, as pgbench is
            while time.perf_counter() < deadline:
                amount = next(counter) * 1000  # ≥ 2 × the largest increment above any price: always a new lead
                t0 = time.perf_counter()
                r = await http.post(f"/api/v1/listings/{listing_id}/bids", {"max_amount": amount})
                dt = time.perf_counter() - t0
                if r.status_code == 201:
                    accepted += 1
                    latencies.append(dt)
                else:
                    refused += 1
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    await asyncio.gather(*(client(t) for t in tokens))
    if statuses:
        print(f"  refused by status: {statuses}")
    return accepted, refused, latencies


HOT_ROW_SQL = """\\set amt random(1, 1000000000)
BEGIN;
SELECT id, current_price, leader_id, leader_max, runner_up_max, bid_count, ends_at, status FROM listings WHERE id = 1 FOR UPDATE;
INSERT INTO bids (listing_id, bidder_id, max_amount, price_after, leader_id_after, created_at) VALUES (1, 2, :amt, :amt, 2, now());
UPDATE listings SET current_price = :amt, leader_id = 2, leader_max = :amt, bid_count = bid_count + 1, version = version + 1 WHERE id = 1;
END;
"""

# What a leader-changing bid does in SQL (from the app's statement log): hot row, balance read, account upsert
# check, account locks in id order, ledger transaction + 4 entries, balances, the bid row, the listing row.
FULL_SQL = """\\set amt random(1, 1000000000)
\\set a random(2, 9)
\\set b random(10, 17)
BEGIN;
SELECT id, current_price, leader_id, leader_max, runner_up_max, bid_count, ends_at, status FROM listings WHERE id = 1 FOR UPDATE;
SELECT balance FROM ledger_accounts WHERE key = 'user:' || :a || ':available';
SELECT key, id FROM ledger_accounts WHERE key IN ('user:' || :a || ':available', 'user:' || :a || ':held', 'user:' || :b || ':available', 'user:' || :b || ':held');
SELECT id, balance FROM ledger_accounts WHERE user_id IN (:a, :b) ORDER BY id FOR UPDATE;
INSERT INTO ledger_transactions (kind, ref_type, ref_id, memo, created_at) VALUES ('hold', 'listing', 1, 'bid', now()) RETURNING id \\gset tx_
INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after, created_at) SELECT :tx_id, id, 0, balance, now() FROM ledger_accounts WHERE user_id IN (:a, :b);
UPDATE ledger_accounts SET balance = balance WHERE user_id IN (:a, :b);
INSERT INTO bids (listing_id, bidder_id, max_amount, price_after, leader_id_after, created_at) VALUES (1, :a, :amt, :amt, :a, now());
UPDATE listings SET current_price = :amt, leader_id = :a, leader_max = :amt, bid_count = bid_count + 1, version = version + 1 WHERE id = 1;
END;
"""


def pgbench_binary() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True):
        return str(candidate)
    raise SystemExit("pgbench not found (install the PostgreSQL client/contrib package)")


def pgbench(dbname: str, script: str, clients: int, seconds: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
        path = f.name
    dsn_host = PG.split("://", 1)[1]
    user, _, hostport = dsn_host.rpartition("@")
    host, _, port = hostport.partition(":")
    out = subprocess.run(
        [pgbench_binary(), "-n", "-h", host, "-p", port or "5432", "-U", user or "postgres", "-c", str(clients),
         "-j", str(min(clients, 2)), "-T", str(seconds), "-f", path, dbname],
        capture_output=True, text=True, check=True,
    ).stdout
    os.unlink(path)
    for line in out.splitlines():
        if line.startswith("tps ="):
            return float(line.split("=")[1].split()[0])
    raise RuntimeError(out)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (Linux /proc; gone processes count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


async def backend_pids(dbname: str) -> list[int]:
    """The PostgreSQL backends serving ``dbname`` (the app's pooled connections)."""
    admin = await asyncpg.connect(f"{PG}/postgres")
    try:
        return [r["pid"] for r in await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", dbname)]
    finally:
        await admin.close()


async def measure(clients: int = 16, seconds: float = 10, workers: int = 2,
                  batching: bool = True) -> dict[str, float]:
    """HTTP bids on one hot auction, then pgbench on the same hot row with the same connection count, in one run
    on one scratch database (created and dropped here). Returns the figures; ``ratio`` = HTTP ÷ hot-row pgbench."""
    dbname = f"marketplace_bench_bids_{os.getpid()}"
    url = await create_db(dbname)
    port = free_port()
    env = {**os.environ, "MARKETPLACE_DATABASE_URL": url, "MARKETPLACE_REDIS_URL": REDIS,
           "MARKETPLACE_BID_RATE_LIMIT": "100000000",
           "MARKETPLACE_BID_BATCHING": "1" if batching else "0", "MARKETPLACE_SECRET_KEY": "bench-secret-0123456789abcdef012345",
           "MARKETPLACE_DATA_DIR": tempfile.mkdtemp(prefix="bench-var-"), "MARKETPLACE_PAYMENT_GATEWAY": "sandbox", "PYTHONPATH": str(ROOT)}
    server = None
    try:
        listing_id, tokens = await seed(url, clients)
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "marketplace.app:create_app_from_env", "--factory", "--host",
             "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning",
             "--no-access-log"], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(base + f"/api/v1/listings/{listing_id}/bids", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        await run_clients(base, listing_id, tokens, 2.0)  # warm-up: every client's connection, pools, caches
        # CPU per answered bid, server processes and PostgreSQL backends apart: the bound of P1 on a small box is
        # the CPU a bid costs, not the row lock (docs/performance.md, P1).
        server_pids, pg_pids = process_tree(server.pid), await backend_pids(dbname)
        cpu_before = cpu_seconds(server_pids), cpu_seconds(pg_pids), os.times()
        accepted, refused, lat = await run_clients(base, listing_id, tokens, seconds)
        after = os.times()
        server_cpu, pg_cpu = cpu_seconds(server_pids) - cpu_before[0], cpu_seconds(pg_pids) - cpu_before[1]
        client_cpu = (after.user + after.system) - (cpu_before[2].user + cpu_before[2].system)
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
            server = None
        rate = accepted / seconds
        pg_seconds = max(int(seconds), 5)
        hot = pgbench(dbname, HOT_ROW_SQL, clients, pg_seconds)
        full = pgbench(dbname, FULL_SQL, clients, pg_seconds)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        await drop_db(dbname)
    return {"clients": clients, "workers": workers, "batching": int(batching), "seconds": seconds, "accepted_per_s": round(rate, 1),
            "accepted": accepted, "refused": refused, "p50_ms": round(pct(lat, 50) * 1000, 1),
            "p99_ms": round(pct(lat, 99) * 1000, 1), "pgbench_hot_row_tps": round(hot, 1),
            "pgbench_full_bid_tps": round(full, 1), "ratio": round(rate / hot, 3), "ratio_full": round(rate / full, 3),
            **cpu_figures(accepted + refused, accepted, seconds, server_cpu, pg_cpu, client_cpu, hot)}


def cpu_figures(answers: int, accepted: int, seconds: float, server_cpu: float, pg_cpu: float, client_cpu: float,
                hot_tps: float) -> dict[str, float]:
    """Where the CPU of a bid goes, and the P1 ratio this box could reach at that cost: every core busy with
    server and PostgreSQL work only (a load generator elsewhere) at the run's share of accepted answers."""
    per = max(answers, 1)
    cost = (server_cpu + pg_cpu) / per  # CPU seconds per answered bid
    cores = os.cpu_count() or 1
    ceiling = cores / cost * (accepted / per) if cost else 0.0
    return {"server_cpu_ms_per_answer": round(server_cpu / per * 1000, 2),
            "pg_cpu_ms_per_answer": round(pg_cpu / per * 1000, 2),
            "client_cpu_ms_per_answer": round(client_cpu / per * 1000, 2),
            "cpu_busy_cores": round((server_cpu + pg_cpu + client_cpu) / seconds, 2), "cores": cores,
            "cpu_bound_accepted_per_s": round(ceiling, 1), "cpu_bound_ratio": round(ceiling / hot_tps, 3)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-batching", action="store_true", help="one transaction per bid (MARKETPLACE_BID_BATCHING=0)")
    args = parser.parse_args()
    r = await measure(args.clients, args.seconds, args.workers, batching=not args.no_batching)
    print(f"HTTP bids ({args.clients} clients, {args.workers} uvicorn workers, PostgreSQL + Redis, "
          f"batching {'off' if args.no_batching else 'on'}):")
    print(f"  accepted bids/s: {r['accepted_per_s']:8.1f}   (accepted {r['accepted']}, refused {r['refused']} in "
          f"{args.seconds:.0f}s — a refused bid also locks the row)")
    print(f"  latency p50: {r['p50_ms']:6.1f} ms   p99: {r['p99_ms']:6.1f} ms")
    print(f"  CPU per answered bid: server {r['server_cpu_ms_per_answer']} ms, PostgreSQL {r['pg_cpu_ms_per_answer']} ms, "
          f"load generator {r['client_cpu_ms_per_answer']} ms ({r['cpu_busy_cores']} of {r['cores']} cores busy); "
          f"all cores on server + PostgreSQL at that cost: {r['cpu_bound_accepted_per_s']} accepted/s = ratio "
          f"{r['cpu_bound_ratio']:.2f}")
    print(f"pgbench, same hot row, {args.clients} connections:")
    print(f"  hot-row update only (lock + bid insert + row update): {r['pgbench_hot_row_tps']:8.1f} tps   "
          f"ratio HTTP/pgbench = {r['ratio']:.2f}")
    print(f"  whole bid transaction SQL (hot row + ledger):         {r['pgbench_full_bid_tps']:8.1f} tps   "
          f"ratio HTTP/pgbench = {r['ratio_full']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
