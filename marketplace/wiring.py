"""The composition root's static wiring: every mapper, every job, every port and every event subscription.

Every process (web app, arq worker, CLI, tests) calls :func:`subscribe_all` once at start. It installs the ports a
lower package needs from an upper one (listings ← shops and site, categories ← listings, membership ← orders),
registers the classes whose writes bump the shared cache and the domain-event handlers of upper packages (each
exposes a ``subscribe()`` function, listed here explicitly, never discovered).
Importing this module also loads every mapped class (``marketplace.models``) and every job module (the jobs
register themselves with ``marketplace.jobs`` when imported), so no service imports them to be safe.
"""

from __future__ import annotations

import marketplace.models  # noqa: F401  (the one mapper registry: every mapped class, before the first query)
from marketplace.auctions import tasks as auction_tasks
from marketplace.cache import track_writes
from marketplace.categories import ports as category_ports
from marketplace.categories.models import Category
from marketplace.listings import ports as listing_ports
from marketplace.listings.models import Listing, ListingImage, ListingQuestion
from marketplace.listings.services import ListingsByCategory
from marketplace.membership import handlers as membership_handlers
from marketplace.membership import ports as membership_ports
from marketplace.membership import tasks as membership_tasks
from marketplace.notifications import handlers as notifications_handlers
from marketplace.notifications import tasks as notification_tasks
from marketplace.orders import tasks as order_tasks
from marketplace.orders.models import Feedback
from marketplace.orders.services import PurchaseHistory, SellerTrust
from marketplace.shops import tasks as shop_tasks
from marketplace.shops.models import Shop
from marketplace.shops.services import ShopDirectory
from marketplace.site.blocks import SiteBlockSlots
from marketplace.site.reports import SiteRemovalReasons
from marketplace.wallet import handlers as wallet_handlers

# The job modules of the application (imported for their @job/@periodic registrations).
TASK_MODULES = (auction_tasks, order_tasks, shop_tasks, notification_tasks, membership_tasks)


def install_ports() -> None:
    """Give the lower packages their implementations of the ports they declare (idempotent)."""
    listing_ports.install(ShopDirectory())
    category_ports.install(ListingsByCategory())
    membership_ports.install(PurchaseHistory())
    listing_ports.install_blocks(SiteBlockSlots())
    listing_ports.install_removals(SiteRemovalReasons())
    listing_ports.install_trust(SellerTrust())


def track_cached_writes() -> None:
    """The cache versions a write to each tracked class bumps (docs/rules.md §18; marketplace.cache)."""
    track_writes(Listing, lambda row: ("listings", f"listing:{row.id}"))
    track_writes(ListingQuestion, lambda row: (f"listing:{row.listing_id}",))  # Q&A on the listing page
    track_writes(ListingImage, lambda row: ("listings", f"listing:{row.listing_id}"))
    track_writes(Category, lambda row: ("categories",))
    track_writes(Shop, lambda row: ("shops", f"shop:{row.id}", "listings"))
    track_writes(Feedback, lambda row: ("shops",))  # a seller's rating on shop pages


def subscribe_all() -> None:
    """Install the ports and register every domain-event handler of the application (idempotent)."""
    install_ports()
    track_cached_writes()
    wallet_handlers.subscribe()
    notifications_handlers.subscribe()
    membership_handlers.subscribe()
    # Upper packages add their ``subscribe()`` calls here as they land (membership, site cache).
