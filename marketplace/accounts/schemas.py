from __future__ import annotations

from typing import Annotated

import msgspec


class RegisterIn(msgspec.Struct, forbid_unknown_fields=False):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    password: Annotated[str, msgspec.Meta(max_length=256)]


class UserRef(msgspec.Struct):
    id: int
    username: str


class TokenIn(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(max_length=64)]
    password: Annotated[str, msgspec.Meta(max_length=256)]


class TokenOut(msgspec.Struct):
    token: str
    user: UserRef


class AccountSettings(msgspec.Struct):
    time_zone: str


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] | None = None
