"""Catalog domain errors (each carries its HTTP status through :mod:`marketplace.errors`)."""

from __future__ import annotations

from marketplace.errors import Conflict, InvalidInput, NotFound


class CategoryNotFound(NotFound):
    default_detail = "Category not found."


class InvalidCategoryName(InvalidInput):
    default_detail = "A category name is 1 to 60 characters."


class InvalidSlug(InvalidInput):
    default_detail = "A slug is lowercase ASCII letters, digits and single hyphens (at most 80 characters)."


class UnknownParent(InvalidInput):
    default_detail = "The parent category does not exist."


class DuplicateCategoryName(Conflict):
    default_detail = "A sibling category already has that name."


class SlugTaken(Conflict):
    default_detail = "That slug is already used by another category."


class CategoryCycle(Conflict):
    default_detail = "A category cannot be moved under itself or one of its own sub-categories."


class CategoryTooDeep(Conflict):
    default_detail = "The category tree is limited in depth."


class InvalidMerge(Conflict):
    default_detail = "These categories cannot be merged."


class CategoryNotEmpty(Conflict):
    default_detail = "Only an empty category (no sub-categories, no listings) can be deleted."
