"""Litestar dependencies of the listings HTTP modules, and the ports the composition root fills for them.

* ``listing_service``: a :class:`ListingService` for the request (session, settings, publisher).
* ``listing_published``: what happens once a listing is published (the auctions domain schedules the close job).
* ``listing_panel``: extra context of the listing page (the auctions domain's bid box: history and chart).

The two ports are provided by ``marketplace/app.py`` from the auctions package (``auctions/deps.py``); the
listings package never imports the auctions above it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import CurrentUser
from marketplace.listings.models import Listing
from marketplace.listings.services import ListingService
from marketplace.settings import Settings

PublishHook = Callable[[AsyncSession, Listing], None]
ListingPanel = Callable[[AsyncSession, Listing, CurrentUser | None], Awaitable[dict[str, Any]]]

Listings = NamedDependency[ListingService]
ListingPublished = NamedDependency[PublishHook]
ListingPagePanel = NamedDependency[ListingPanel]


def provide_listing_service(db_session: NamedDependency[AsyncSession], settings: NamedDependency[Settings],
                            state: State) -> ListingService:
    return ListingService(db_session, settings, publisher=state.publisher)
