from __future__ import annotations

from marketplace.errors import Conflict, InvalidInput, NotFound


class ListingNotFound(NotFound):
    default_detail = "Listing not found."


class WatchlistFull(Conflict):
    default_detail = "You already watch 500 listings; remove some first."


class NotificationNotFound(NotFound):
    default_detail = "Notification not found."


class SavedSearchNotFound(NotFound):
    default_detail = "Saved search not found."


class TooManySavedSearches(Conflict):
    default_detail = "You already have 50 saved searches; delete one first."


class InvalidNotificationInput(InvalidInput):
    default_detail = "Invalid input."
