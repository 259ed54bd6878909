"""The composition root's static wiring: every mapper, every job, every port and every event subscription.

Every process (web app, arq worker, CLI, tests) calls :func:`subscribe_all` once at start. It installs the ports a
lower package needs from an upper one (listings ← shops, categories ← listings) and registers the domain-event
handlers of upper packages (each exposes a ``subscribe()`` function, listed here explicitly, never discovered).
Importing this module also loads every mapped class (``marketplace.models``) and every job module (the jobs
register themselves with ``marketplace.jobs`` when imported), so no service imports them to be safe.
"""

from __future__ import annotations

import marketplace.models  # noqa: F401  (the one mapper registry: every mapped class, before the first query)
from marketplace.auctions import tasks as auction_tasks
from marketplace.categories import ports as category_ports
from marketplace.listings import ports as listing_ports
from marketplace.listings.services import ListingsByCategory
from marketplace.orders import tasks as order_tasks
from marketplace.shops import tasks as shop_tasks
from marketplace.shops.services import ShopDirectory
from marketplace.wallet import handlers as wallet_handlers

# The job modules of the application (imported for their @job/@periodic registrations).
TASK_MODULES = (auction_tasks, order_tasks, shop_tasks)


def install_ports() -> None:
    """Give the lower packages their implementations of the ports they declare (idempotent)."""
    listing_ports.install(ShopDirectory())
    category_ports.install(ListingsByCategory())


def subscribe_all() -> None:
    """Install the ports and register every domain-event handler of the application (idempotent)."""
    install_ports()
    wallet_handlers.subscribe()
    # Upper packages add their ``subscribe()`` calls here as they land (notifications, membership, site cache).
