"""Typed names for the app-wide dependencies (Litestar 3 requires dependencies to be marked explicitly).

Handlers write ``db_session: DB``, ``user: AuthUser``, ``optional_user: MaybeUser``, ``settings: AppSettings``.
"""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.identity import CurrentUser
from marketplace.settings import Settings

DB = NamedDependency[AsyncSession]
AuthUser = NamedDependency[CurrentUser]
MaybeUser = NamedDependency[CurrentUser | None]
AppSettings = NamedDependency[Settings]
