"""Domain events: how a lower domain tells the upper ones that something happened, without importing them.

A service of a lower package (auctions, orders, shops, wallet, …) describes what happened as a small frozen
dataclass defined in its own ``events.py`` and calls :func:`emit` with the session of the current transaction.
Handlers of upper packages (notifications, membership, site cache, …) are subscribed once, statically, by the
composition root (:func:`marketplace.wiring.subscribe_all`, called by the web app, the worker and the CLI).

Handlers run **inside the emitting transaction**, in subscription order: whatever they write commits or rolls
back with the event itself, so a notification or a points entry exists exactly once whenever its event did —
also when a job is retried or two processes race (the event's own transaction decides who wins). Work that must
wait for the commit (websocket pushes, e-mail, job enqueues) is registered by the handler with
:func:`marketplace.db.after_commit`.

A handler that raises makes the whole use case fail and roll back: handlers must only do what belongs to the
same unit of work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

E = TypeVar("E")
Handler = Callable[[AsyncSession, Any], Awaitable[None]]

_handlers: dict[type, list[Handler]] = {}


def subscribe(event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]) -> None:
    """Register ``handler`` for ``event_type`` (idempotent: subscribing the same handler twice keeps one)."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


async def emit(session: AsyncSession, event: object) -> None:
    """Run every handler of ``type(event)`` now, in the caller's transaction."""
    for handler in _handlers.get(type(event), ()):
        await handler(session, event)


def clear() -> None:
    """Forget every subscription (unit tests that subscribe their own handlers)."""
    _handlers.clear()
