"""``marketplace cards report``: one table per batch — cards and coins by status, sales, who made and checked it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.cards.services import BatchSummary, CardService
from marketplace.settings import Settings

ROWS = (("new", "new"), ("sold", "sold"), ("redeemed", "redeemed"), ("void", "void"))


def render(summaries: Sequence[BatchSummary]) -> str:
    if not summaries:
        return "no card batches"
    blocks: list[str] = []
    for s in summaries:
        b = s.batch
        head = [
            f"batch #{b.id} · {b.face_value:,} coins · expires {b.expires_on.isoformat()} · {b.status}",
            f"  maker {s.created_by} · checker {s.activated_by or '—'} · "
            f"secrets {'exported by ' + s.exported_by if s.exported_by else 'not exported'}"
            + (f" · note: {b.note}" if b.note else ""),
            f"  {'':<10}{'cards':>8}{'coins':>14}",
        ]
        body = [f"  {label:<10}{s.count(status):>8,}{s.coins(status):>14,}" for label, status in ROWS]
        body.append(f"  {'issued':<10}{s.issued:>8,}{s.coins():>14,}")
        body.append(f"  {'sales':<10}{s.sales_count:>8,}{s.sales_total:>14,}  (prices recorded at sale)")
        body.append(f"  {'refunds':<10}{s.refunds_count:>8,}{s.refunds_total:>14,}")
        blocks.append("\n".join(head + body))
    return "\n\n".join(blocks)


async def report(session: AsyncSession, settings: Settings) -> str:
    return render(await CardService(session, settings).list_batches(limit=10_000))
