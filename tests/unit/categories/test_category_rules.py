"""categories.rules: the category tree's invariants (docs/rules.md §10), decided over a plain snapshot."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.categories import rules
from marketplace.categories.exceptions import (
    CategoryCycle,
    CategoryNotEmpty,
    CategoryNotFound,
    CategoryTooDeep,
    DuplicateCategoryName,
    InvalidCategoryName,
    InvalidMerge,
    InvalidSlug,
    UnknownParent,
)
from marketplace.demo import CATEGORY_TREE

MAX = 6


def chain(n: int) -> rules.Tree:
    """1 → 2 → … → n, each the parent of the next."""
    return rules.Tree.of({i: (i - 1 if i > 1 else None, f"L{i}", False) for i in range(1, n + 1)})


@pytest.fixture
def tree() -> rules.Tree:
    #  1 Electronics ─┬─ 2 Phones ── 4 Used
    #                 └─ 3 Computers
    #  5 Books
    return rules.Tree.of({
        1: (None, "Electronics", False),
        2: (1, "Phones", False),
        3: (1, "Computers", False),
        4: (2, "Used", False),
        5: (None, "Books", True),
    })


# --- snapshot ---------------------------------------------------------------------------------------------------


def test_depth_height_and_descendants(tree: rules.Tree) -> None:
    assert tree.depth(1) == 1
    assert tree.depth(4) == 3
    assert tree.height(1) == 3
    assert tree.height(4) == 1
    assert tree.descendants(1) == {2, 3, 4}
    assert tree.descendants(4) == set()
    assert tree.is_leaf(3)
    assert not tree.is_leaf(2)


def test_children_in_position_then_name_order() -> None:
    t = rules.Tree([rules.Node(1, None, "b", position=1), rules.Node(2, None, "a", position=1),
                    rules.Node(3, None, "z", position=0)])
    assert [n.id for n in t.children(None)] == [3, 2, 1]


def test_unknown_node_is_not_found(tree: rules.Tree) -> None:
    with pytest.raises(CategoryNotFound):
        tree.node(99)


# --- names ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "x" * 61, "bad\x00name"])
def test_invalid_names(raw: str) -> None:
    with pytest.raises(InvalidCategoryName):
        rules.clean_name(raw)


def test_name_is_trimmed_and_inner_whitespace_folded() -> None:
    assert rules.clean_name("  数码   Electronics \n") == "数码 Electronics"
    assert rules.clean_name("x" * 60) == "x" * 60


@pytest.mark.parametrize("name", ["phones", "PHONES", "  Phones ", "pHoNeS"])
def test_sibling_names_unique_ignoring_case_and_whitespace(tree: rules.Tree, name: str) -> None:
    with pytest.raises(DuplicateCategoryName):
        rules.check_create(tree, 1, name, MAX)


def test_same_name_allowed_under_another_parent_and_for_itself(tree: rules.Tree) -> None:
    assert rules.check_create(tree, 2, "Phones", MAX) == "Phones"
    assert rules.check_create(tree, None, "Phones", MAX) == "Phones"
    assert rules.check_rename(tree, 2, "PHONES") == "PHONES"  # a case change of its own name is no clash
    with pytest.raises(DuplicateCategoryName):
        rules.check_rename(tree, 2, "computers")


def test_root_names_unique(tree: rules.Tree) -> None:
    with pytest.raises(DuplicateCategoryName):
        rules.check_create(tree, None, "books", MAX)


def test_create_under_unknown_parent(tree: rules.Tree) -> None:
    with pytest.raises(UnknownParent):
        rules.check_create(tree, 42, "New", MAX)


# --- depth ------------------------------------------------------------------------------------------------------


def test_create_depth_limit() -> None:
    t = chain(6)
    assert rules.check_create(t, 5, "Level 6 sibling", MAX)
    with pytest.raises(CategoryTooDeep):
        rules.check_create(t, 6, "Level 7", MAX)


def test_move_keeps_the_whole_subtree_within_the_limit() -> None:
    # chain 1..4 (height 4 from 1) plus a separate chain 10 → 11 → 12 (depth 3 at 12)
    nodes = {i: (i - 1 if i > 1 else None, f"L{i}", False) for i in range(1, 5)}
    nodes.update({10: (None, "X", False), 11: (10, "Y", False), 12: (11, "Z", False)})
    t = rules.Tree.of(nodes)
    rules.check_move(t, 3, 12, MAX)  # subtree 3–4 (height 2) under depth 3: levels 4–5
    rules.check_move(t, 2, 11, MAX)  # subtree 2–4 (height 3) under depth 2: levels 3–5
    rules.check_move(t, 1, 11, MAX)  # height 4 under depth 2: levels 3–6, exactly the limit
    with pytest.raises(CategoryTooDeep):
        rules.check_move(t, 1, 12, MAX)  # levels 4–7


# --- cycles -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("new_parent", [1, 2, 3, 4])
def test_never_under_itself_or_its_subtree(tree: rules.Tree, new_parent: int) -> None:
    with pytest.raises(CategoryCycle):
        rules.check_move(tree, 1, new_parent, MAX)


def test_valid_moves(tree: rules.Tree) -> None:
    rules.check_move(tree, 4, 3, MAX)  # to a cousin
    rules.check_move(tree, 2, None, MAX)  # to the top level
    rules.check_move(tree, 1, 5, MAX)  # a whole subtree under another root


def test_move_clash_with_new_siblings(tree: rules.Tree) -> None:
    t = rules.Tree.of({**{n.id: (n.parent_id, n.name, n.hidden) for n in tree.nodes.values()},
                       6: (5, "phones", False)})
    with pytest.raises(DuplicateCategoryName):
        rules.check_move(t, 2, 5, MAX)


def test_move_to_unknown_parent(tree: rules.Tree) -> None:
    with pytest.raises(UnknownParent):
        rules.check_move(tree, 2, 77, MAX)


def test_corrupt_snapshot_with_a_cycle_does_not_hang() -> None:
    t = rules.Tree.of({1: (2, "a", False), 2: (1, "b", False)})
    with pytest.raises(CategoryCycle):
        t.depth(1)


@given(st.data())
def test_accepted_moves_never_create_a_cycle_or_exceed_depth(data: Any) -> None:
    """Random forests and random moves: whatever check_move accepts leaves a forest within the depth limit."""
    size = data.draw(st.integers(2, 12))
    parents: dict[int, int | None] = {}
    for i in range(1, size + 1):
        parents[i] = data.draw(st.one_of(st.none(), st.integers(1, i - 1))) if i > 1 else None
    t = rules.Tree.of({i: (p, f"n{i}", False) for i, p in parents.items()})
    node = data.draw(st.integers(1, size))
    new_parent = data.draw(st.one_of(st.none(), st.integers(1, size)))
    max_depth = data.draw(st.integers(2, 6))
    try:
        rules.check_move(t, node, new_parent, max_depth)
    except (CategoryCycle, CategoryTooDeep, DuplicateCategoryName):
        return
    moved = rules.Tree.of({i: (new_parent if i == node else p, f"n{i}", False) for i, p in parents.items()})
    for i in moved.nodes:
        depth = moved.depth(i)  # raises on a cycle
        if i == node or i in moved.descendants(node):
            assert depth <= max_depth


# --- merge ------------------------------------------------------------------------------------------------------


def test_merge_leaf_with_listings_into_leaf(tree: rules.Tree) -> None:
    plan = rules.check_merge(tree, 4, 3, MAX, source_listings=3, target_listings=2)
    assert plan == rules.MergePlan(source_id=4, target_id=3, children=())


def test_merge_moves_children(tree: rules.Tree) -> None:
    plan = rules.check_merge(tree, 1, 5, MAX, source_listings=0, target_listings=0)
    assert plan.children == (3, 2)  # display order: "Computers" before "Phones"


def test_merge_child_into_its_parent(tree: rules.Tree) -> None:
    plan = rules.check_merge(tree, 2, 1, MAX, source_listings=0, target_listings=0)
    assert plan.children == (4,)


@pytest.mark.parametrize(("source", "target"), [(1, 1), (1, 2), (1, 4), (2, 4)])
def test_merge_not_into_itself_or_its_descendants(tree: rules.Tree, source: int, target: int) -> None:
    with pytest.raises(InvalidMerge):
        rules.check_merge(tree, source, target, MAX, source_listings=0, target_listings=0)


def test_merge_unknown_target(tree: rules.Tree) -> None:
    with pytest.raises(CategoryNotFound):
        rules.check_merge(tree, 2, 99, MAX, source_listings=0, target_listings=0)


def test_merge_refuses_listings_in_a_non_leaf(tree: rules.Tree) -> None:
    with pytest.raises(InvalidMerge):  # a leaf's listings into a category with sub-categories
        rules.check_merge(tree, 3, 2, MAX, source_listings=1, target_listings=0)
    with pytest.raises(InvalidMerge):  # sub-categories into a leaf that holds listings
        rules.check_merge(tree, 2, 3, MAX, source_listings=0, target_listings=1)


def test_merge_child_name_clash(tree: rules.Tree) -> None:
    t = rules.Tree.of({**{n.id: (n.parent_id, n.name, n.hidden) for n in tree.nodes.values()},
                       6: (3, "USED", False)})
    with pytest.raises(DuplicateCategoryName):
        rules.check_merge(t, 2, 3, MAX, source_listings=0, target_listings=0)


def test_merge_depth_limit() -> None:
    nodes = {i: (i - 1 if i > 1 else None, f"L{i}", False) for i in range(1, 7)}  # 1..6
    nodes.update({20: (None, "Other", False), 21: (20, "Deep", False), 22: (21, "Deeper", False)})
    t = rules.Tree.of(nodes)
    rules.check_merge(t, 20, 4, MAX, source_listings=0, target_listings=0)  # 21, 22 land on levels 5, 6
    with pytest.raises(CategoryTooDeep):
        rules.check_merge(t, 20, 5, MAX, source_listings=0, target_listings=0)  # levels 6, 7


# --- delete -----------------------------------------------------------------------------------------------------


def test_delete_only_empty(tree: rules.Tree) -> None:
    rules.check_delete(tree, 3, 0)
    with pytest.raises(CategoryNotEmpty):
        rules.check_delete(tree, 2, 0)
    with pytest.raises(CategoryNotEmpty):
        rules.check_delete(tree, 3, 1)


# --- slugs ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "slug"), [
    ("Electronics", "electronics"),
    ("数码 Electronics", "electronics"),
    ("钱币 Coins & Currency", "coins-currency"),
    ("  Home -- Garden!! ", "home-garden"),
    ("Café Crème", "cafe-creme"),
    ("iPhone 15 Pro", "iphone-15-pro"),
    ("手机", ""),
    ("！！", ""),
])
def test_slug_base(name: str, slug: str) -> None:
    assert rules.slug_base(name) == slug


def test_slug_base_is_bounded_and_valid() -> None:
    slug = rules.slug_base("word " * 40)
    assert len(slug) <= rules.SLUG_BASE_MAX
    assert rules.check_slug(slug) == slug


def test_slug_collisions_get_a_number() -> None:
    assert rules.unique_slug("phones", set()) == "phones"
    assert rules.unique_slug("phones", {"phones"}) == "phones-2"
    assert rules.unique_slug("phones", {"phones", "phones-2", "phones-3"}) == "phones-4"


def test_chinese_only_name_falls_back_to_id() -> None:
    assert rules.fallback_slug(17) == "cat-17"
    assert rules.check_slug(rules.fallback_slug(17))


@pytest.mark.parametrize("slug", ["", "Upper", "a--b", "-a", "a-", "a b", "数码", "x" * 81])
def test_invalid_slugs(slug: str) -> None:
    with pytest.raises(InvalidSlug):
        rules.check_slug(slug)


def test_demo_tree_is_valid() -> None:
    """The seeded demo tree obeys the same rules as the admin pages: slugs, sibling names, depth."""
    slugs: list[str] = []

    def walk(nodes: list[Any], level: int) -> None:
        assert level <= MAX
        keys = [rules.name_key(rules.clean_name(name)) for name, _, _ in nodes]
        assert len(keys) == len(set(keys))
        for _name, slug, children in nodes:
            slugs.append(rules.check_slug(slug))
            walk(children, level + 1)

    walk(CATEGORY_TREE, 1)
    assert len(slugs) == len(set(slugs))


# --- ordering ---------------------------------------------------------------------------------------------------


def test_reorder_renumbers_siblings() -> None:
    assert rules.reorder([10, 20, 30], 30, 0) == {30: 0, 10: 1, 20: 2}
    assert rules.reorder([10, 20, 30], 10, 1) == {20: 0, 10: 1, 30: 2}
    assert rules.reorder([10, 20, 30], 10, 99) == {20: 0, 30: 1, 10: 2}  # clamped to the end
    assert rules.reorder([10, 20, 30], 20, -5) == {20: 0, 10: 1, 30: 2}


def test_append_position(tree: rules.Tree) -> None:
    assert rules.append_position(tree, 3) == 0
    t = rules.Tree([rules.Node(1, None, "a", position=4), rules.Node(2, None, "b", position=2)])
    assert rules.append_position(t, None) == 5
