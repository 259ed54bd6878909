"""Category tree rules (docs/rules.md §10), pure: they decide over a snapshot of the tree and never do I/O.

The service takes the snapshot *after* locking the tree, so every decision here sees the tree as it will be
written: a move that passes ``check_move`` cannot create a cycle even if another admin is editing at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

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
from marketplace.i18n import N_

NAME_MAX = 60
SLUG_MAX = 80
# Room for a "-NNN" suffix inside SLUG_MAX when a generated slug collides.
SLUG_BASE_MAX = 70
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_WS = re.compile(r"\s+")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    parent_id: int | None
    name: str
    hidden: bool = False
    position: int = 0


class Tree:
    """An immutable snapshot of the category tree: ``id → Node``, with child lists built once."""

    __slots__ = ("_children", "nodes")

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes: dict[int, Node] = {n.id: n for n in nodes}
        children: dict[int | None, list[Node]] = {}
        for node in self.nodes.values():
            children.setdefault(node.parent_id, []).append(node)
        for siblings in children.values():
            siblings.sort(key=lambda n: (n.position, n.name.casefold(), n.id))
        self._children = children

    @classmethod
    def of(cls, mapping: Mapping[int, tuple[int | None, str, bool]]) -> Tree:
        """Build from the plain form ``{id: (parent_id, name, hidden)}``."""
        return cls(Node(i, p, n, h) for i, (p, n, h) in mapping.items())

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.nodes

    def node(self, node_id: int) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise CategoryNotFound() from None

    def children(self, parent_id: int | None) -> list[Node]:
        """Children in display order (position, then name)."""
        return list(self._children.get(parent_id, ()))

    def depth(self, node_id: int) -> int:
        """Level of a node: a root is level 1."""
        level, current, seen = 0, self.nodes.get(node_id), set()
        while current is not None:
            if current.id in seen:  # a corrupt snapshot must not hang the request
                raise CategoryCycle("The category tree contains a cycle.")
            seen.add(current.id)
            level += 1
            current = self.nodes.get(current.parent_id) if current.parent_id is not None else None
        return level

    def height(self, node_id: int) -> int:
        """Levels in the subtree rooted at ``node_id``, the node included (a leaf has height 1)."""
        best, stack = 0, [(node_id, 1)]
        while stack:
            nid, h = stack.pop()
            best = max(best, h)
            stack.extend((c.id, h + 1) for c in self._children.get(nid, ()))
        return best

    def descendants(self, node_id: int) -> set[int]:
        """Every node strictly below ``node_id``."""
        out: set[int] = set()
        stack = [c.id for c in self._children.get(node_id, ())]
        while stack:
            nid = stack.pop()
            if nid not in out:
                out.add(nid)
                stack.extend(c.id for c in self._children.get(nid, ()))
        return out

    def is_leaf(self, node_id: int) -> bool:
        return not self._children.get(node_id)


# --- names -------------------------------------------------------------------------------------------------------


def clean_name(raw: str) -> str:
    """A display name: trimmed, inner runs of whitespace folded to one space, 1–60 characters."""
    name = _WS.sub(" ", raw or "").strip()
    if not name:
        raise InvalidCategoryName("A category name cannot be blank.")
    if len(name) > NAME_MAX:
        raise InvalidCategoryName("A category name is at most %(name_max)s characters (got %(length)s).",
                                  name_max=NAME_MAX, length=len(name))
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise InvalidCategoryName("A category name cannot contain control characters.")
    return name


def name_key(name: str) -> str:
    """What makes two sibling names "the same": case and surrounding/inner whitespace do not count."""
    return _WS.sub(" ", name).strip().casefold()


def check_sibling_name(tree: Tree, parent_id: int | None, name: str, *, ignore: Collection[int] = ()) -> None:
    """Sibling names are unique (docs/rules.md §10), compared case-insensitively."""
    key = name_key(name)
    for sibling in tree.children(parent_id):
        if sibling.id not in ignore and name_key(sibling.name) == key:
            raise DuplicateCategoryName("“%(name)s” already exists at that level.", name=sibling.name)


def _check_parent(tree: Tree, parent_id: int | None) -> None:
    if parent_id is not None and parent_id not in tree:
        raise UnknownParent("Parent category %(parent_id)s does not exist.", parent_id=parent_id)


def _too_deep(max_depth: int) -> CategoryTooDeep:
    return CategoryTooDeep(N_("The category tree is limited to %(max_depth)s levels."), max_depth=max_depth)


def check_create(tree: Tree, parent_id: int | None, raw_name: str, max_depth: int) -> str:
    """Validate a new category; returns its cleaned name."""
    name = clean_name(raw_name)
    _check_parent(tree, parent_id)
    if parent_id is not None and tree.depth(parent_id) + 1 > max_depth:
        raise _too_deep(max_depth)
    check_sibling_name(tree, parent_id, name)
    return name


def check_rename(tree: Tree, node_id: int, raw_name: str) -> str:
    name = clean_name(raw_name)
    node = tree.node(node_id)
    check_sibling_name(tree, node.parent_id, name, ignore=(node_id,))
    return name


def check_move(tree: Tree, node_id: int, new_parent_id: int | None, max_depth: int) -> None:
    """A move keeps the tree a tree (never under itself or its own subtree) and within ``max_depth`` levels."""
    node = tree.node(node_id)
    _check_parent(tree, new_parent_id)
    if new_parent_id is not None and (new_parent_id == node_id or new_parent_id in tree.descendants(node_id)):
        raise CategoryCycle("“%(name)s” cannot be moved under itself or one of its own sub-categories.", name=node.name)
    parent_depth = tree.depth(new_parent_id) if new_parent_id is not None else 0
    if parent_depth + tree.height(node_id) > max_depth:
        raise _too_deep(max_depth)
    check_sibling_name(tree, new_parent_id, node.name, ignore=(node_id,))


@dataclass(frozen=True, slots=True)
class MergePlan:
    """What a valid merge does: re-parent ``children`` (in order) under ``target_id``, then delete the source."""

    source_id: int
    target_id: int
    children: tuple[int, ...]


def check_merge(
    tree: Tree,
    source_id: int,
    target_id: int,
    max_depth: int,
    *,
    source_listings: int,
    target_listings: int,
) -> MergePlan:
    """Merge the source into the target: its listings and children move into the target, the source is deleted.

    Refused when the target is the source or lies inside the source's subtree (the target would be deleted or
    become its own ancestor), when a moved child would clash with a name already under the target or push the
    tree past ``max_depth``, and when the result would hold listings in a category that has sub-categories —
    listings go only in leaf categories (docs/rules.md §10), and a merge must not break that for the listings it moves.
    ``*_listings`` count the active listings placed directly in each category.
    """
    source = tree.node(source_id)
    target = tree.node(target_id)
    if source_id == target_id:
        raise InvalidMerge("A category cannot be merged into itself.")
    if target_id in tree.descendants(source_id):
        raise InvalidMerge("“%(name)s” cannot be merged into one of its own sub-categories.", name=source.name)
    moving = tree.children(source_id)
    if moving and tree.depth(target_id) + tree.height(source_id) - 1 > max_depth:
        raise _too_deep(max_depth)
    existing = {name_key(c.name): c.name for c in tree.children(target_id) if c.id != source_id}
    for child in moving:
        if name_key(child.name) in existing:
            raise DuplicateCategoryName("“%(target)s” already has a sub-category named “%(name)s”.",
                                        target=target.name, name=existing[name_key(child.name)])
    target_keeps_children = any(c.id != source_id for c in tree.children(target_id))
    if (source_listings + target_listings) and (moving or target_keeps_children):
        raise InvalidMerge(
            "The merge would put listings into a category that has sub-categories; "
            "listings belong in leaf categories only.")
    return MergePlan(source_id=source_id, target_id=target_id, children=tuple(c.id for c in moving))


def check_delete(tree: Tree, node_id: int, listing_count: int) -> None:
    """Only an empty category is deleted: no sub-categories and no listings of any status."""
    node = tree.node(node_id)
    if not tree.is_leaf(node_id):
        raise CategoryNotEmpty("“%(name)s” still has sub-categories; move, merge or delete them first.", name=node.name)
    if listing_count:
        raise CategoryNotEmpty("“%(name)s” still has %(listing_count)s listing(s); merge it instead.",
                               name=node.name, listing_count=listing_count)


# --- slugs -------------------------------------------------------------------------------------------------------


def slug_base(name: str) -> str:
    """The URL-safe ASCII part of a name ("数码 Electronics" → "electronics"); "" when there is none."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = _NON_SLUG.sub("-", ascii_text).strip("-")
    if len(slug) > SLUG_BASE_MAX:
        slug = slug[:SLUG_BASE_MAX].rstrip("-")
    return slug


def fallback_slug(category_id: int) -> str:
    """For names with no ASCII letters or digits (e.g. "手机"): readable and unique by construction."""
    return f"cat-{category_id}"


def unique_slug(base: str, taken: Collection[str]) -> str:
    """``base``, or ``base-2``, ``base-3`` … — the first one not in ``taken``."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def check_slug(slug: str) -> str:
    slug = slug.strip()
    if not slug or len(slug) > SLUG_MAX or not SLUG_RE.fullmatch(slug):
        raise InvalidSlug()
    return slug


# --- ordering ----------------------------------------------------------------------------------------------------


def append_position(tree: Tree, parent_id: int | None) -> int:
    """Position for a node added at the end of ``parent_id``'s children."""
    return max((c.position for c in tree.children(parent_id)), default=-1) + 1


def reorder(sibling_ids: Sequence[int], node_id: int, index: int) -> dict[int, int]:
    """New positions ``0..n-1`` after moving ``node_id`` to ``index`` (clamped) among its siblings.

    Renumbering the whole sibling list keeps positions distinct, so the display order never depends on ties.
    """
    others = [i for i in sibling_ids if i != node_id]
    index = max(0, min(index, len(others)))
    ordered = [*others[:index], node_id, *others[index:]]
    return {nid: pos for pos, nid in enumerate(ordered)}
