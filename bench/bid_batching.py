"""The bid transaction without HTTP: one transaction per bid (``BidService.place_bid``) beside the batched path
(``BidBatcher``), same process, same scratch database, same bids, back to back.

    python bench/bid_batching.py [--bids 400] [--clients 16] [--rounds 2]

Isolates what batching changes (row-lock queue, statements and commits per bid) from the HTTP and event-loop
costs that bench/bids.py also measures. Every bid is a rising maximum from one of ``--clients`` concurrent
bidders (always a new lead: hold + release), as in bench/bids.py.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bids import create_db, drop_db  # noqa: E402


async def measure(bids: int = 400, clients: int = 16, rounds: int = 2) -> dict[str, list[float]]:
    import marketplace.models  # noqa: F401
    from marketplace import migrate, wiring
    from marketplace.accounts.models import User
    from marketplace.auctions.batching import BidBatcher
    from marketplace.auctions.services import BidService
    from marketplace.db import create_engine, session_factory, utcnow
    from marketplace.errors import DomainError
    from marketplace.settings import Settings
    from tests.factories import fund, make_listing

    wiring.subscribe_all()
    dbname = f"marketplace_bench_batching_{os.getpid()}"
    url = await create_db(dbname)
    engine = create_engine(url)
    sessions = session_factory(engine)
    settings = Settings()
    out: dict[str, list[float]] = {"one_per_transaction": [], "batched": [], "largest_batch": []}
    try:
        await migrate.upgrade_async(url)
        async with sessions() as s, s.begin():
            users = [User(username=f"bb{i}", email=f"bb{i}@example.com", password_hash="!")
                     for i in range(clients + 1)]
            s.add_all(users)
            await s.flush()
            for u in users[1:]:
                await fund(s, u.id, 10**12)
            bidders = [u.id for u in users[1:]]
            seller = users[0]
        for _ in range(rounds):
            for mode in ("one_per_transaction", "batched"):
                async with sessions() as s, s.begin():
                    lid = (await make_listing(s, seller, mode="auction", start_price=1,
                                              duration_seconds=86400)).id
                counter = itertools.count(1)
                batcher = BidBatcher(sessions, settings)
                remaining = bids

                async def client(bidder: int, lid: int = lid, mode: str = mode,
                                 batcher: BidBatcher = batcher, counter: Any = counter) -> None:
                    nonlocal remaining
                    while remaining > 0:
                        remaining -= 1
                        amount = next(counter) * 1000
                        try:
                            if mode == "batched":
                                await batcher.submit(lid, bidder, amount, utcnow())
                            else:
                                async with sessions() as s, s.begin():
                                    await BidService(s, settings).place_bid(lid, bidder, amount, utcnow())
                        except DomainError:
                            pass

                t0 = time.perf_counter()
                await asyncio.gather(*(client(b) for b in bidders))
                out[mode].append(round(bids / (time.perf_counter() - t0), 1))
                if mode == "batched":
                    out["largest_batch"].append(batcher.largest_batch)
    finally:
        await engine.dispose()
        await drop_db(dbname)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bids", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    r = await measure(args.bids, args.clients, args.rounds)
    print(f"{args.bids} bids, {args.clients} concurrent bidders, one process, bids/s per round:")
    print(f"  one transaction per bid: {r['one_per_transaction']}")
    print(f"  batched:                 {r['batched']}  (largest batch {r['largest_batch']})")


if __name__ == "__main__":
    asyncio.run(main())
