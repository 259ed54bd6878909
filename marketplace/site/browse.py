"""The one import of the listings domain's browse query in this package."""

from marketplace.listings.services import BrowseQuery, ListingService

__all__ = ["BrowseQuery", "ListingService"]
