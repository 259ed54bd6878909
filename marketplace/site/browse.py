"""The one import of the listings domain's browse query in this package (it moves to marketplace/listings/)."""

from marketplace.catalog.listings import BrowseQuery, ListingService

__all__ = ["BrowseQuery", "ListingService"]
