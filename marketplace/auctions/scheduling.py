"""Enqueueing an auction's close job (the job itself lives in auctions/tasks.py).

Kept apart from the job module so that the bid service can re-schedule a close after an extension without
importing the jobs that import it (no import cycle).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marketplace.jobs import JobQueue
from marketplace.listings.models import Listing

CLOSE_JOB = "close_auction"


def close_job_id(listing_id: int, ends_at: datetime) -> str:
    return f"close:{listing_id}:{int(ends_at.timestamp())}"


def _queue_of(target: Any) -> JobQueue:
    state = getattr(target, "state", None)
    if state is not None and getattr(state, "jobs", None) is not None:
        return state.jobs  # type: ignore[no-any-return]
    app = getattr(target, "app", None)  # a Request
    if app is not None:
        return app.state.jobs  # type: ignore[no-any-return]
    return target  # type: ignore[no-any-return]


async def schedule_close(target: Any, listing: Listing | int, ends_at: datetime | None = None) -> None:
    """Enqueue the close job of an auction for its ``ends_at``.

    ``target`` is the Litestar app, a request, or a job queue. Call it after the commit that created the
    auction (``after_commit``); the sweeper closes the auction anyway if this is never called.
    """
    if isinstance(listing, Listing):
        listing_id, ends_at = listing.id, listing.ends_at
    else:
        listing_id = listing
    assert ends_at is not None, "an auction has an end"
    await _queue_of(target).enqueue(CLOSE_JOB, listing_id, defer_until=ends_at,
                                    job_id=close_job_id(listing_id, ends_at))
