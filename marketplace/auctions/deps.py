"""What the auctions package provides to the listings HTTP modules below it (wired in ``marketplace/app.py``).

* ``listing_published``: once a new auction is committed, enqueue its close job for ``ends_at`` (the sweeper
  closes it anyway if the enqueue is lost).
* ``listing_panel``: the auction box of the listing page (bid history and chart), :func:`views.auction_context`.
"""

from __future__ import annotations

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.auctions.scheduling import schedule_close
from marketplace.auctions.views import auction_context
from marketplace.db import after_commit
from marketplace.listings.deps import ListingPanel, PublishHook
from marketplace.listings.models import Listing


def provide_listing_published(state: State) -> PublishHook:
    def published(session: AsyncSession, listing: Listing) -> None:
        if listing.mode != "auction":
            return
        queue = state.jobs
        listing_id, ends_at = listing.id, listing.ends_at
        after_commit(session, lambda: schedule_close(queue, listing_id, ends_at))

    return published


def provide_listing_panel() -> ListingPanel:
    return auction_context
