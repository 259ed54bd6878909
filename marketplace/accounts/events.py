"""Events of the accounts domain (see marketplace/events.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class UserRegistered:
    user_id: int


@dataclass(frozen=True, slots=True)
class UserLoggedIn:
    """A successful sign-in (page or token), in the sign-in's transaction (membership counts active days)."""

    user_id: int
    at: datetime
