"""Ledger throughput on PostgreSQL: concurrent transfers between users, then the audit.

    python bench/ledger_transfers.py [--transfers 1000] [--users 20] [--concurrency 20]

Creates a throwaway database (``MARKETPLACE_TEST_PG_DSN``, default postgres@127.0.0.1), builds the schema with the
migrations, and prints transfers per second. Each transfer is its own transaction that locks two wallet rows in
ascending id order — the per-user serialisation point of docs/architecture.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from marketplace import migrate, wiring
from marketplace.db import create_engine, session_factory
from marketplace.wallet import ledger
from marketplace.wallet.audit import audit
from marketplace.wallet.exceptions import InsufficientCoins

wiring.subscribe_all()  # every mapper (ledger accounts reference orders), as in the app

ADMIN_DSN = os.environ.get("MARKETPLACE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


async def main(transfers: int, users: int, concurrency: int) -> int:
    name = f"marketplace_bench_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = "postgresql+asyncpg://" + ADMIN_DSN.split("://", 1)[1].rpartition("/")[0] + f"/{name}"
    engine = create_engine(url, pool_size=concurrency, max_overflow=0)
    try:
        await migrate.upgrade_async(url)
        sessions = session_factory(engine)
        from marketplace.accounts.models import User

        async with sessions() as s, s.begin():
            ids = []
            for i in range(users):
                user = User(username=f"bench{i}", email=f"bench{i}@example.com", password_hash="x")
                s.add(user)
                await s.flush()
                ids.append(user.id)
                await ledger.post(s, kind="adjustment", legs=[ledger.Leg(ledger.platform("adjustments"), -1000),
                                                              ledger.Leg(ledger.available(user.id), 1000)])
        rng = random.Random(1)
        plan = [(*rng.sample(ids, 2), rng.randint(1, 200)) for _ in range(transfers)]
        gate = asyncio.Semaphore(concurrency)
        refused = 0

        async def transfer(src: int, dst: int, amount: int) -> None:
            nonlocal refused
            async with gate, sessions() as s, s.begin():
                try:
                    await ledger.post(s, kind="transfer", legs=[ledger.Leg(ledger.available(src), -amount),
                                                                ledger.Leg(ledger.available(dst), amount)])
                except InsufficientCoins:
                    refused += 1

        started = time.perf_counter()
        await asyncio.gather(*(transfer(*p) for p in plan))
        elapsed = time.perf_counter() - started
        async with sessions() as s:
            report = await audit(s)
        print(f"{transfers} transfers among {users} users, {concurrency} concurrent: {elapsed:.2f}s = "
              f"{transfers / elapsed:.0f} transfers/s ({refused} refused for lack of coins)")
        print(report.text())
        return 0 if report.ok else 1
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transfers", type=int, default=1000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.transfers, args.users, args.concurrency)))
