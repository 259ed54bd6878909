"""What the membership domain needs from the orders above it, as a port the composition root fills in.

Membership sits below orders (docs/architecture.md): the order paths call its services in their own transaction
(price the checkout, spend and earn points, start the freeze clock, recompute the level). A level, though, is made
of completed purchases (docs/rules.md §13), which the orders package owns: it implements :class:`PurchaseHistory`
and :func:`marketplace.wiring.install_ports` installs it once per process (web app, worker, CLI, tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession


class OrderRef(Protocol):
    """The order fields the points ledger reads (an ``orders.models.Order``)."""

    @property
    def id(self) -> int: ...

    @property
    def buyer_id(self) -> int: ...

    @property
    def total(self) -> int: ...

    @property
    def points_used(self) -> int: ...


@dataclass(frozen=True, slots=True)
class GrowthInputs:
    """What the growth score is made of over its window (docs/rules.md §16)."""

    spend: int  # effective spend, coins (active days: membership records them itself, MemberActivityDay)
    feedback_given: int
    feedback_photos: int
    disputes_lost: int


class PurchaseHistory(Protocol):
    async def effective_spend(self, session: AsyncSession, user_id: int, since: datetime, until: datetime) -> int:
        """The ``total`` of the user's purchases completed in ``(since, until]``."""
        ...

    def buyers_since(self, since: datetime) -> Select[tuple[int]]:
        """The ids of buyers with a purchase completed after ``since``."""
        ...

    def badge_selects(self, since: datetime) -> dict[str, Select[tuple[int, str, str]]]:
        """Per badge kind (``medal``, ``behaviour``), one SELECT of ``(user_id, code, name)`` rows."""
        ...

    async def growth_inputs(self, session: AsyncSession, user_id: int, since: datetime,
                            until: datetime) -> GrowthInputs:
        """The user's growth-score inputs in ``(since, until]``."""
        ...


_history: PurchaseHistory | None = None


def install(history: PurchaseHistory) -> None:
    global _history
    _history = history


def purchases() -> PurchaseHistory:
    if _history is None:
        raise RuntimeError("membership.ports.install() was not called (marketplace.wiring.install_ports)")
    return _history
