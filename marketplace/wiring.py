"""The composition root's static wiring of cross-domain reactions (see marketplace/events.py).

Every process (web app, arq worker, CLI) calls :func:`subscribe_all` once at start. Upper packages expose a
``subscribe()`` function that registers their handlers; it is listed here, explicitly, never discovered.
"""

from __future__ import annotations


def subscribe_all() -> None:
    """Register every domain-event handler of the application (idempotent)."""
    # Upper packages add their ``subscribe()`` calls here as they land (notifications, membership, site cache).
    from marketplace.notifications import handlers as notifications

    notifications.subscribe()
