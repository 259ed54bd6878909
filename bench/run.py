"""Issue 17's five measures, each beside its anchor, in one run; prints one table (docs/performance.md).

    python bench/run.py [--quick] [--json FILE] [--only P1,P3]

P1  accepted bids/s on one hot auction over HTTP ÷ pgbench tx/s of the hot-row bid SQL (bench/bids.py), one app
    process (affinity) and two; with the CPU a bid costs and the ratio that cost allows on this box
P2  bid accepted → last of 1,000 websocket watchers, p99 ÷ the same fan-out from a bare ``websockets`` server
    (bench/fanout.py)
P3  category browse and text search (1- and 2-word, Chinese and English), 8 clients, p95 over 1,000,000 listings
    (``--quick``: 100,000) (bench/browse.py)
P4  10,000 auctions with bids ending together, settled exactly once by two workers, seconds (``--quick``: 1,000)
    (bench/settle.py)
P5  cached listing page req/s ÷ Litestar hello-world req/s, same uvicorn flags, same load generator
    (bench/cached_page.py)

Every bench creates its own scratch database on BENCH_PG (default postgresql://postgres@127.0.0.1:5432) and
drops it; P1/P2 use Redis at BENCH_REDIS (default redis://127.0.0.1:6379/5). The machine may be shared: compare
ratios (measured side by side in this run) rather than absolute figures across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOALS = {"P1": ("≥ 0.5", lambda v: v >= 0.5), "P2": ("≤ 1.5", lambda v: v <= 1.5),
         "P3": ("≤ 50 ms", lambda v: v <= 50), "P4": ("≤ 60 s", lambda v: v <= 60),
         "P5": ("≥ 0.4", lambda v: v >= 0.4)}


async def run(quick: bool, only: set[str]) -> tuple[list[tuple[str, str, str, str, str, str]], dict[str, Any]]:
    from bench import bids, browse, cached_page, fanout, settle

    rows: list[tuple[str, str, str, str, str, str]] = []
    out: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "quick": quick,
                           "host": platform.node(), "raw": {}}

    def record(key: str, measure: str, anchor: str, value: float | None, shown: str) -> None:
        goal, ok = GOALS[key]
        verdict = "n/a" if value is None else ("met" if ok(value) else "missed")
        rows.append((key, measure, anchor, shown, goal, verdict))

    async def step(key: str, fn: Any) -> None:
        if only and key not in only:
            return
        t0 = time.perf_counter()
        try:
            await fn()
        except Exception as exc:  # one failing bench must not hide the others
            traceback.print_exc()
            out["raw"][key] = {"error": repr(exc)}
            rows.append((key, f"error: {exc!r}"[:60], "", "", GOALS[key][0], "error"))
        print(f"[{key} took {time.perf_counter() - t0:.0f} s]", flush=True)

    async def p1() -> None:
        # One app process serves the hot auction (the load balancer's affinity by listing id: docs/performance.md,
        # scale-out), so its bids share one batcher; two processes without affinity are measured too and shown.
        r = await bids.measure(clients=16, seconds=5 if quick else 10, workers=1)
        r2 = await bids.measure(clients=16, seconds=5 if quick else 10, workers=2)
        out["raw"]["P1"] = r
        out["raw"]["P1_two_processes"] = r2
        best = max((r, r2), key=lambda x: x["ratio"])  # both shown; the table's value is the better one
        out["p1_ratio"] = best["ratio"]
        record("P1", f"{best['accepted_per_s']:.0f} accepted bids/s (16 clients, {best['workers']} process(es); "
               f"1: {r['ratio']:.2f}, 2: {r2['ratio']:.2f}); the CPU per bid allows "
               f"{max(r['cpu_bound_ratio'], r2['cpu_bound_ratio']):.2f}",
               f"pgbench hot row {best['pgbench_hot_row_tps']:.0f} tps", best["ratio"], f"{best['ratio']:.2f}")

    async def p2() -> None:
        r = await fanout.measure(watchers=1000, bids=10 if quick else 30, workers=2)
        out["raw"]["P2"] = r
        out["p2_ratio"] = r["ratio"]
        record("P2", f"201 → last of 1,000 p99 {r['app']['p99_ms']:.0f} ms",
               f"bare websockets p99 {r['anchor_p99_ms']:.0f} ms", r["ratio"], f"{r['ratio']:.2f}")

    async def p3() -> None:
        n = 100_000 if quick else 1_000_000
        r = await browse.measure_p3(listings=n, requests=100 if quick else 200, concurrency=8)
        out["raw"]["P3"] = r
        out["p3_p95_ms"] = r["p95_ms"]
        worse = "browse" if r["browse_p95_ms"] >= r["search_p95_ms"] else "search"
        cpu = r[f"{worse}_app_cpu_ms"] + r[f"{worse}_pg_cpu_ms"]
        record("P3", f"p95 browse {r['browse_p95_ms']:.0f} / search {r['search_p95_ms']:.0f} ms ({n:,}, 8 clients); "
               f"{worse} CPU {cpu:.1f} ms/req allows {r[f'{worse}_cpu_bound_req_s']:.0f} req/s",
               "—", r["p95_ms"], f"{r['p95_ms']:.0f} ms")

    async def p4() -> None:
        n = 1_000 if quick else 10_000
        r = await settle.measure(auctions=n, workers=2)
        out["raw"]["P4"] = r
        out["p4_seconds"] = r["seconds"]
        once = "exactly once" if r["exactly_once"] else "NOT exactly once"
        record("P4", f"{n:,} auctions settled, 2 workers, {once}", "—",
               r["seconds"] if r["exactly_once"] else float("inf"), f"{r['seconds']:.1f} s")

    async def p5() -> None:
        r = await cached_page.measure(quick=quick)
        out["raw"]["P5"] = r
        out["p5_ratio"] = r["ratio"]
        record("P5", f"cached listing page {r['cached_page_req_s']:.0f} req/s (1 uvicorn process, 16 clients)",
               f"Litestar hello-world {r['hello_world_req_s']:.0f} req/s", r["ratio"], f"{r['ratio']:.2f}")

    for key, fn in (("P1", p1), ("P2", p2), ("P3", p3), ("P4", p4), ("P5", p5)):
        await step(key, fn)
    out["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return rows, out


def print_table(rows: list[tuple[str, str, str, str, str, str]]) -> None:
    headers = ("", "measure", "anchor", "value", "goal", "")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="P3 over 100,000 listings, P4 with 1,000 auctions")
    parser.add_argument("--json", metavar="FILE", help="write p1_ratio … p5_ratio and the raw figures")
    parser.add_argument("--only", default="", help="comma-separated subset, e.g. P3,P4")
    args = parser.parse_args()
    only = {k.strip().upper() for k in args.only.split(",") if k.strip()}
    rows, out = asyncio.run(run(args.quick, only))
    print_table(rows)
    if args.json:
        for key in ("p1_ratio", "p2_ratio", "p3_p95_ms", "p4_seconds", "p5_ratio"):
            out.setdefault(key, None)
        Path(args.json).write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
