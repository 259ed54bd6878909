"""Idempotency keys for money-moving requests (docs/rules.md §19.3).

Every money-moving form carries a hidden ``idempotency_key`` and every such API call may send an
``Idempotency-Key`` header. The first request with a (user, endpoint, key) triple inserts a row *before* doing the
work, in the same transaction, and stores its response on it; the row commits with the work or rolls back with
it. A second request with the same triple:

- after the first committed: its INSERT hits the unique constraint, and it answers the stored response;
- while the first is still running (PostgreSQL): its INSERT waits on the unique index until the first commits
  (then conflicts as above) or rolls back (then it goes ahead and does the work itself).

So two quick identical POSTs make one order, and a refused request (rolled back) leaves no key behind.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigId, UTCDateTime, utcnow
from marketplace.errors import InvalidInput

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
_KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "endpoint", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    endpoint: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(100))
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def new_key() -> str:
    """A fresh key for a form (rendered into its hidden field)."""
    return secrets.token_urlsafe(18)


def clean_key(raw: object) -> str | None:
    """The key as sent, or None when none was sent; a malformed one is a 400."""
    if raw is None or raw == "":
        return None
    key = str(raw).strip()
    if not _KEY_RE.match(key):
        raise InvalidInput("%(header)s must be 8–100 characters of letters, digits, '-', '_', '.', ':'.", header=HEADER)
    return key


@dataclass(frozen=True, slots=True)
class Stored:
    status_code: int
    response: dict[str, Any]


async def claim(session: AsyncSession, *, user_id: int, endpoint: str, key: str) -> IdempotencyRecord | Stored:
    """Claim (user, endpoint, key) in the current transaction: the new record to fill in, or the stored response
    of the request that claimed it first (waiting on the unique index while that one is still running)."""
    record = IdempotencyRecord(user_id=user_id, endpoint=endpoint, key=key, status_code=0, response={})
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError:
        stored = await session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                            IdempotencyRecord.endpoint == endpoint, IdempotencyRecord.key == key)
            .execution_options(populate_existing=True))
        if stored is None:  # pragma: no cover - the conflicting row vanished (its transaction rolled back)
            raise InvalidInput("A request with this idempotency key was just abandoned; retry.") from None
        return Stored(stored.status_code, dict(stored.response))
    return record


async def run_once(session: AsyncSession, *, user_id: int, endpoint: str, key: str | None,
                   work: Callable[[], Awaitable[tuple[int, dict[str, Any]]]]) -> tuple[Stored, bool]:
    """Do ``work`` once per (user, endpoint, key); returns (its result, replayed?).

    ``work`` returns (status code, JSON-able response) to store. Without a key it simply runs. Domain errors
    raised by ``work`` propagate; the caller's rollback removes the key row with everything else.
    """
    if key is None:
        status, body = await work()
        return Stored(status, body), False
    record = await claim(session, user_id=user_id, endpoint=endpoint, key=key)
    if isinstance(record, Stored):
        return record, True
    status, body = await work()
    record.status_code, record.response = status, body
    await session.flush()
    return Stored(status, body), False
