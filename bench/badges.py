"""Badge recomputation (docs/rules.md §16) on PostgreSQL: one DELETE + INSERT … SELECT per kind.

    python bench/badges.py [--users 100000] [--orders 300000] [--roots 10]

Creates a throwaway database (``MARKETPLACE_TEST_PG_DSN``, default postgres@127.0.0.1), builds the schema with the
migrations, bulk-loads users, a category tree (roots with two leaves each), one listing per leaf and seller, and
completed orders spread over the users, then times ``membership.services.recompute_badges`` twice — the first run
inserts every badge, the re-run (the daily job on unchanged data) writes only what changed, i.e. nothing — and
prints the badge counts and the machine's load average (the machine is shared: the load says what the figure is
worth). ``--users 1000000 --orders 2000000`` is the 1M-user figure of docs/performance.md (loading takes ~15 min).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy import insert, select

from marketplace import migrate, wiring
from marketplace.accounts.models import User
from marketplace.categories.models import Category
from marketplace.db import create_engine, session_factory, utcnow
from marketplace.listings.models import Listing
from marketplace.membership import services
from marketplace.orders.models import Order
from marketplace.settings import Settings

wiring.subscribe_all()

ADMIN_DSN = os.environ.get("MARKETPLACE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
CHUNK = 10_000


async def main(users: int, orders: int, roots: int) -> int:
    name = f"marketplace_bench_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = "postgresql+asyncpg://" + ADMIN_DSN.split("://", 1)[1].rpartition("/")[0] + f"/{name}"
    engine = create_engine(url)
    try:
        await migrate.upgrade_async(url)
        sessions = session_factory(engine)
        now = utcnow()
        rng = random.Random(1)
        t0 = time.perf_counter()
        async with sessions() as s, s.begin():
            for start in range(0, users, CHUNK):
                await s.execute(insert(User), [
                    {"username": f"b{i}", "email": f"b{i}@example.com", "password_hash": "x"}
                    for i in range(start, min(users, start + CHUNK))])
            user_ids = list(await s.scalars(select(User.id).order_by(User.id)))
            leaves = []
            for r in range(roots):
                root = Category(name=f"Root {r}", slug=f"root-{r}")
                s.add(root)
                await s.flush()
                for k in range(2):
                    leaf = Category(name=f"Leaf {r}.{k}", slug=f"leaf-{r}-{k}", parent_id=root.id)
                    s.add(leaf)
                    await s.flush()
                    leaves.append(leaf.id)
            sellers = user_ids[:50]
            listing_rows = [{"seller_id": sid, "category_id": leaf, "title": "bench", "description": "",
                             "mode": "fixed", "status": "active", "price": 100, "quantity": 10**6,
                             "quantity_available": 10**6, "current_price": 100, "created_at": now}
                            for sid in sellers for leaf in leaves]
            await s.execute(insert(Listing), listing_rows)
            listings = list((await s.execute(select(Listing.id, Listing.seller_id))).tuples())
            for start in range(0, orders, CHUNK):
                rows = []
                for _ in range(start, min(orders, start + CHUNK)):
                    lid, sid = rng.choice(listings)
                    total = rng.randint(10, 5_000)
                    done = now - timedelta(days=rng.randint(0, 364))
                    rows.append({"listing_id": lid, "buyer_id": rng.choice(user_ids), "seller_id": sid,
                                 "quantity": 1, "unit_price": total, "total": total, "items_total": total,
                                 "fee": 0, "status": "completed", "created_at": done, "completed_at": done,
                                 "closed_at": done})
                await s.execute(insert(Order), rows)
        print(f"loaded {users:,} users, {orders:,} completed orders, {roots} roots in "
              f"{time.perf_counter() - t0:.1f} s")
        for run in (1, 2):
            t = time.perf_counter()
            async with sessions() as s, s.begin():
                counts = await services.recompute_badges(s, now, Settings())
            load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"recompute_badges run {run}: {time.perf_counter() - t:.2f} s  {counts}  (load average {load}, "
                  f"{os.cpu_count()} cores)")
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--roots", type=int, default=10)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.users, args.orders, args.roots)))
