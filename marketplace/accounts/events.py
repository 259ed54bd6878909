"""Events of the accounts domain (see marketplace/events.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UserRegistered:
    user_id: int
