"""Who is making a request: the one user reference every layer shares (the HTTP toolkit ``web/`` sets it, every
domain reads it), so that the toolkit under the domains need not import the accounts domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from marketplace.localtime import DEFAULT_ZONE


class _UserRow(Protocol):
    id: int
    username: str
    email: str
    is_admin: bool
    language: str | None
    time_zone: str


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """A detached, immutable view of a user row."""

    id: int
    username: str
    email: str
    is_admin: bool
    # The user's interface language (None: the lang cookie or the browser decides; marketplace/i18n.py).
    language: str | None = None
    time_zone: str = DEFAULT_ZONE  # IANA name: times on their pages are shown in it (marketplace/localtime.py)

    @classmethod
    def of(cls, user: _UserRow) -> CurrentUser:
        return cls(id=user.id, username=user.username, email=user.email, is_admin=user.is_admin,
                   language=user.language,
                   time_zone=user.time_zone or DEFAULT_ZONE)
