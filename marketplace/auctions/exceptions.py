"""Auction errors; each says which HTTP status it means (mapped once in ``marketplace.web.errors``)."""

from __future__ import annotations

from marketplace.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from marketplace.wallet.exceptions import InsufficientCoins


class AuctionNotFound(NotFound):
    default_detail = "Auction not found."


class InvalidBid(InvalidInput):
    default_detail = "A bid must be a positive whole number of coins."


class AuctionClosed(Conflict):
    default_detail = "The auction is not active."


class AuctionEnded(AuctionClosed):
    default_detail = "The auction has ended."


class BidTooLow(Conflict):
    default_detail = "The bid is below the minimum next bid."


class OwnAuction(PermissionDenied):
    default_detail = "You cannot bid on or buy your own item."


class BuyNowUnavailable(Conflict):
    default_detail = "Buy Now is not available on this auction."


__all__ = [
    "AuctionClosed", "AuctionEnded", "AuctionNotFound", "BidTooLow", "BuyNowUnavailable", "InsufficientCoins",
    "InvalidBid", "OwnAuction",
]
