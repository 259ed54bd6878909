from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.accounts.rules import USERNAME_KEY_MAX, username_key
from marketplace.db import Base, BigId, UTCDateTime, utcnow
from marketplace.localtime import DEFAULT_ZONE


def _key_of_username(context: DefaultExecutionContext) -> str:
    """A row inserted without a key (tests, seeders) gets the one its username implies."""
    parameters: dict[str, object] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return username_key(str(parameters["username"]))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    # NFKC + casefold of the username (accounts/rules.py username_key): "the same name", unique.
    username_key: Mapped[str] = mapped_column(String(USERNAME_KEY_MAX), unique=True, default=_key_of_username)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_banned: Mapped[bool] = mapped_column(Boolean, default=False)
    # docs/rules.md §19.8: why an admin banned the account (shown on the refused login)
    ban_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The interface language the user chose (marketplace/i18n.py LOCALES); None: the browser decides.
    language: Mapped[str | None] = mapped_column(String(8))
    # IANA name; the times on this user's pages are shown in it (marketplace/localtime.py).
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_ZONE, server_default=DEFAULT_ZONE)


class ApiToken(Base):
    """A bearer token for the JSON API. Only the SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After this the token no longer authenticates (None: issued before tokens expired; revoke to end it).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
