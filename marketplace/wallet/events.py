"""Events of the wallet domain (marketplace/events.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopUpPaid:
    """A top-up went ``pending → paid`` and its coins were credited (once: a replayed notify emits nothing)."""

    topup_id: int
    user_id: int
    coins: int
