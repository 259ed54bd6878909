"""Category API schemas (docs/api.md Categories)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

# Generous transport limits only: the real rules (1–60 characters, …) live in categories.rules, which answers with a
# clearer message than a schema error would.
_Text = Annotated[str, msgspec.Meta(max_length=1000)]


class CategoryOut(msgspec.Struct):
    id: int
    name: str
    slug: str
    parent_id: int | None
    position: int
    hidden: bool


class CategoryNode(msgspec.Struct):
    id: int
    name: str
    slug: str
    parent_id: int | None
    position: int
    hidden: bool
    children: list[CategoryNode]


class CategoryCreate(msgspec.Struct):
    name: _Text
    parent_id: int | None = None


class CategoryPatch(msgspec.Struct):
    """Only the fields present change; ``"parent_id": null`` (present) makes the category a root."""

    name: _Text | UnsetType = UNSET
    parent_id: int | UnsetType | None = UNSET
    position: Annotated[int, msgspec.Meta(ge=0)] | UnsetType = UNSET
    hidden: bool | UnsetType = UNSET
    slug: _Text | UnsetType = UNSET


class CategoryMerge(msgspec.Struct):
    into_id: int
