"""Pure block and report rules (docs/rules.md §18)."""

from __future__ import annotations

import pytest

from marketplace.errors import InvalidInput
from marketplace.site import rules


def test_a_full_block_is_normalised() -> None:
    spec = rules.check_block({"title": "  Deals ", "slot": "category:12", "position": 2, "display": "carousel",
                              "limit": 48, "active": False,
                              "query": {"q": " lamp ", "min_price": 0, "max_price": 10, "featured": True,
                                        "mode": "auction", "sort": "ending_soon", "shop": "", "category_id": None}})
    assert spec == rules.BlockSpec(title="Deals", slot="category:12", position=2, display="carousel", limit=48,
                                   active=False, query={"q": "lamp", "min_price": 0, "max_price": 10,
                                                        "featured": True, "mode": "auction", "sort": "ending_soon"})


@pytest.mark.parametrize("change", [
    {"limit": 0}, {"limit": 49}, {"limit": True}, {"limit": "8"}, {"display": "table"}, {"slot": "home "},
    {"slot": "category:0"}, {"slot": "category:x"}, {"slot": "sidebar"}, {"title": ""}, {"title": "x" * 81},
    {"active": 1}, {"position": -1}, {"query": []}, {"query": {"sort": "best"}}, {"query": {"mode": "swap"}},
    {"query": {"min_price": -1}}, {"query": {"min_price": 5, "max_price": 4}}, {"query": {"x": 1}},
    {"query": {"featured": "yes"}}, {"query": {"q": "x" * 101}},
])
def test_bad_blocks_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        rules.check_block({"title": "Deals", "slot": "home", **change})


def test_a_patch_keeps_what_it_does_not_name() -> None:
    current = rules.check_block({"title": "Deals", "slot": "member_day", "limit": 5, "query": {"q": "tea"}})
    patched = rules.check_block({"active": False}, current)
    assert (patched.title, patched.slot, patched.limit, patched.query, patched.active) == (
        "Deals", "member_day", 5, {"q": "tea"}, False)


def test_create_needs_title_and_slot() -> None:
    with pytest.raises(InvalidInput):
        rules.check_block({"title": "x"})


@pytest.mark.parametrize(("reason", "text"), [("spam", ""), (None, ""), ("fraud", 5), ("other", "x" * 2001)])
def test_bad_reports_are_refused(reason: object, text: object) -> None:
    with pytest.raises(InvalidInput):
        rules.check_report(reason, text)


def test_a_report_text_is_optional() -> None:
    assert rules.check_report("fraud", None) == ("fraud", "")
