"""Pure rules of the site package (docs/rules.md §18): what a block and a report may be. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from marketplace.errors import InvalidInput

DISPLAYS = ("grid", "list", "carousel")
SORTS = ("ending_soon", "newest", "price_asc", "price_desc")
MODES = ("fixed", "auction")
REPORT_REASONS = ("prohibited", "counterfeit", "wrong_category", "fraud", "other")
REPORT_ACTIONS = ("dismiss", "remove")
MAX_ITEMS = 48
_SLOT = re.compile(r"^(home|member_day|category:[1-9][0-9]{0,17})$")
QUERY_FIELDS = ("category_id", "mode", "q", "sort", "min_price", "max_price", "featured", "shop", "featured_first")


@dataclass(frozen=True, slots=True)
class BlockSpec:
    title: str
    slot: str
    position: int
    display: str
    limit: int
    active: bool
    query: dict[str, Any]


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput("%(name)s must be a whole number from %(low)s to %(high)s.", name=name, low=low, high=high)
    return value


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("%(name)s must be true or false.", name=name)
    return value


def check_slot(slot: Any) -> str:
    if not isinstance(slot, str) or not _SLOT.match(slot):
        raise InvalidInput("slot must be 'home', 'member_day' or 'category:<id>'.")
    return slot


def slot_category(slot: str) -> int | None:
    return int(slot.split(":", 1)[1]) if slot.startswith("category:") else None


def check_query(raw: Any) -> dict[str, Any]:
    """The saved query; unknown keys are refused, empty values dropped."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInput("query must be an object.")
    unknown = set(raw) - set(QUERY_FIELDS)
    if unknown:
        raise InvalidInput("query has unknown fields: %(choices)s.", choices=', '.join(sorted(unknown)))
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None or value == "":
            continue
        if key == "category_id":
            out[key] = _int(value, "query.category_id", 1, 2**62)
        elif key in ("min_price", "max_price"):
            out[key] = _int(value, f"query.{key}", 0, 2**62)
        elif key in ("featured", "featured_first"):
            out[key] = _bool(value, f"query.{key}")
        elif key == "mode":
            if value not in MODES:
                raise InvalidInput("query.mode must be 'fixed' or 'auction'.")
            out[key] = value
        elif key == "sort":
            if value not in SORTS:
                raise InvalidInput("query.sort must be one of %(choices)s.", choices=', '.join(SORTS))
            out[key] = value
        elif key in ("q", "shop"):
            if not isinstance(value, str) or len(value) > 100:
                raise InvalidInput("query.%(key)s must be text of at most 100 characters.", key=key)
            if value.strip():
                out[key] = value.strip()
    if "min_price" in out and "max_price" in out and out["min_price"] > out["max_price"]:
        raise InvalidInput("The minimum price cannot be above the maximum price.")
    return out


def check_block(data: dict[str, Any], current: BlockSpec | None = None) -> BlockSpec:
    """A whole block from a create (``current`` None: title and slot required) or a patch over ``current``."""
    if current is None:
        for required in ("title", "slot"):
            if required not in data:
                raise InvalidInput("%(required)s is required.", required=required)
    base = current or BlockSpec(title="", slot="home", position=0, display="grid", limit=8, active=True, query={})
    title = data.get("title", base.title)
    if not isinstance(title, str) or not 1 <= len(title.strip()) <= 80:
        raise InvalidInput("title must be 1–80 characters.")
    display = data.get("display", base.display)
    if display not in DISPLAYS:
        raise InvalidInput("display must be 'grid', 'list' or 'carousel'.")
    return BlockSpec(
        title=title.strip(),
        slot=check_slot(data.get("slot", base.slot)),
        position=_int(data.get("position", base.position), "position", 0, 10_000),
        display=display,
        limit=_int(data.get("limit", base.limit), "limit", 1, MAX_ITEMS),
        active=_bool(data.get("active", base.active), "active"),
        query=check_query(data["query"]) if "query" in data else dict(base.query),
    )


def check_report(reason: Any, text: Any) -> tuple[str, str]:
    if reason not in REPORT_REASONS:
        raise InvalidInput("reason must be one of %(choices)s.", choices=', '.join(REPORT_REASONS))
    if text is None:
        text = ""
    if not isinstance(text, str) or len(text) > 2000:
        raise InvalidInput("text must be at most 2000 characters.")
    return reason, text.strip()
