"""Moved to :mod:`marketplace.site.cache` (docs/rules.md §18); kept so lower domains import it from here."""

from marketplace.site.cache import Cache

__all__ = ["Cache"]
