"""P4: N auctions with bids all ending in the same minute, settled by two workers' sweeps at once.

    python bench/settle.py [--auctions 10000] [--workers 2]

Creates a scratch PostgreSQL database, seeds N ended auctions, each with two bids (a leader holding its maximum
through the ledger, a runner-up), one in four below its reserve, then starts ``--workers`` processes that each
run ``auctions.tasks.sweep_auctions`` once, as two arq workers would on the same tick. Reports the seconds until
every auction is settled, then checks "exactly once": every auction closed, one order per sold auction, no hold
left, the ledger audit (every transaction sums to 0, balances equal their entries). Drops the database.
"""

# ruff: noqa: E501 - a benchmark driver
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bids import PG, create_db, drop_db  # noqa: E402

BIDDERS = 200
LEADER_MAX = 300
RUNNER_UP = 200


async def seed(url: str, n: int) -> None:
    import marketplace.models  # noqa: F401
    from marketplace import migrate
    from marketplace.accounts.models import User
    from marketplace.db import create_engine, session_factory
    from marketplace.wallet import ledger
    from tests.factories import fund

    await migrate.upgrade_async(url)
    engine = create_engine(url)
    async with session_factory(engine)() as s, s.begin():
        users = [User(username=f"settle{i}", email=f"settle{i}@example.com", password_hash="!") for i in range(BIDDERS + 1)]
        s.add_all(users)
        await s.flush()
        bidder_ids = [u.id for u in users[1:]]
        led = dict.fromkeys(bidder_ids, 0)
        for i in range(n):
            led[bidder_ids[i % BIDDERS]] += 1
        for uid in bidder_ids:  # each leader's maxima held, as the bids would have done it
            await fund(s, uid, 10**9)
            if led[uid]:
                await ledger.post(s, kind="hold", ref_type="user", ref_id=uid, memo="bench holds",
                                  legs=[ledger.Leg(ledger.available(uid), -LEADER_MAX * led[uid]),
                                        ledger.Leg(ledger.held(uid), LEADER_MAX * led[uid])])
        seller_id = users[0].id
    await engine.dispose()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        cat = await conn.fetchval("INSERT INTO categories (name, slug, position, hidden, created_at) "
                                  "VALUES ('Bench', 'bench', 0, false, now()) RETURNING id")
        first, last = bidder_ids[0], bidder_ids[-1]
        # Leader = first + i % BIDDERS (matches the holds above), runner-up = the next bidder; ends in the last minute.
        await conn.execute(f"""
            INSERT INTO listings (seller_id, category_id, title, description, mode, status, featured, insertion_fee,
                free_listing, created_at, quantity, quantity_available, current_price, start_price, reserve_price,
                duration_seconds, auto_extend, ends_at, leader_id, leader_max, runner_up_max, bid_count, version)
            SELECT {seller_id}, {cat}, 'auction ' || i, '', 'auction', 'active', false, 5, false,
                now() - interval '1 day', 1, 1, {RUNNER_UP + 5}, 10, CASE WHEN i % 4 = 0 THEN 1000 END, 86400, true,
                now() - (i % 60) * interval '1 second', {first} + (i % {BIDDERS}), {LEADER_MAX}, {RUNNER_UP}, 2, 2
            FROM generate_series(0, {n - 1}) AS i""")
        await conn.execute(f"""
            INSERT INTO bids (listing_id, bidder_id, max_amount, price_after, leader_id_after, created_at)
            SELECT id, CASE WHEN leader_id = {last} THEN {first} ELSE leader_id + 1 END, {RUNNER_UP}, 10,
                   CASE WHEN leader_id = {last} THEN {first} ELSE leader_id + 1 END, now() - interval '2 hours'
            FROM listings
            UNION ALL SELECT id, leader_id, {LEADER_MAX}, {RUNNER_UP + 5}, leader_id, now() - interval '1 hour'
            FROM listings""")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


class _Sink:
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        return None

    async def enqueue(self, name: str, *args: Any, defer_until: Any = None, job_id: str | None = None) -> None:
        return None


def _worker(url: str, start_at: float, out: Any) -> None:
    import marketplace.wiring
    from marketplace.auctions import tasks
    from marketplace.db import create_engine, session_factory
    from marketplace.jobs import JobContext
    from marketplace.settings import Settings

    marketplace.wiring.subscribe_all()

    async def run() -> None:
        engine = create_engine(url)
        sink = _Sink()
        ctx = JobContext(settings=Settings(), session_factory=session_factory(engine), queue=sink, publisher=sink)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        closed = await tasks.sweep_auctions(ctx)
        out.send((closed, time.time()))
        await engine.dispose()

    asyncio.run(run())


async def check(url: str, n: int) -> dict[str, int]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        still_active = await conn.fetchval("SELECT count(*) FROM listings WHERE status = 'active'")
        sold = await conn.fetchval("SELECT count(*) FROM listings WHERE status = 'sold'")
        unsold = await conn.fetchval("SELECT count(*) FROM listings WHERE status = 'unsold'")
        orders = await conn.fetchval("SELECT count(*) FROM orders")
        double = await conn.fetchval("SELECT count(*) FROM (SELECT listing_id FROM orders GROUP BY listing_id HAVING count(*) > 1) t")
        held = int(await conn.fetchval("SELECT coalesce(sum(balance), 0) FROM ledger_accounts WHERE kind = 'held'"))
        bad_txn = await conn.fetchval("SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0) t")
        drift = await conn.fetchval(
            "SELECT count(*) FROM ledger_accounts a LEFT JOIN (SELECT account_id, sum(amount) s FROM ledger_entries "
            "GROUP BY account_id) e ON e.account_id = a.id WHERE a.kind IN ('available', 'held', 'escrow') "
            "AND a.balance <> coalesce(e.s, 0)")
    finally:
        await conn.close()
    figures = {"still_active": still_active, "sold": sold, "unsold": unsold, "orders": orders,
               "double_orders": double, "held_left": held, "unbalanced_txns": bad_txn, "balance_drift": drift}
    ok = (still_active == 0 and sold + unsold == n and orders == sold == n - (n + 3) // 4
          and double == 0 and held == 0 and bad_txn == 0 and drift == 0)
    figures["exactly_once"] = int(ok)
    return figures


async def measure(auctions: int = 10_000, workers: int = 2) -> dict[str, Any]:
    """Seed, settle with ``workers`` processes, check; returns the figures (``seconds``, ``exactly_once``...)."""
    dbname = f"marketplace_bench_settle_{os.getpid()}"
    url = await create_db(dbname)
    try:
        t0 = time.perf_counter()
        await seed(url, auctions)
        seeded = time.perf_counter() - t0
        ctx = multiprocessing.get_context("spawn")
        start_at = time.time() + 3.0  # both workers import and connect first, then start on the same tick
        pipes, procs = [], []
        for _ in range(workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(url, start_at, child))
            proc.start()
            pipes.append(parent)
            procs.append(proc)
        results = [await asyncio.to_thread(p.recv) for p in pipes]
        for proc in procs:
            proc.join(timeout=30)
        seconds = max(t for _, t in results) - start_at
        figures = await check(url, auctions)
        return {"auctions": auctions, "workers": workers, "seconds": round(seconds, 2),
                "closed_per_worker": [c for c, _ in results], "seed_seconds": round(seeded, 1), **figures}
    finally:
        await drop_db(dbname)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--auctions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    r = asyncio.run(measure(args.auctions, args.workers))
    print(f"{r['auctions']} auctions ending together, {r['workers']} workers sweeping at once ({PG}):")
    print(f"  settled in {r['seconds']:.1f} s ({r['auctions'] / max(r['seconds'], 1e-9):.0f} closes/s), "
          f"closed per worker {r['closed_per_worker']}")
    print(f"  sold {r['sold']}, unsold {r['unsold']}, orders {r['orders']}, double orders {r['double_orders']}, "
          f"held left {r['held_left']}, unbalanced txns {r['unbalanced_txns']}, balance drift {r['balance_drift']}"
          f" → exactly once: {'yes' if r['exactly_once'] else 'NO'}")


if __name__ == "__main__":
    main()
