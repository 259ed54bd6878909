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


class BiddingBlocked(PermissionDenied):
    """docs/rules.md §19.1: three buyer strikes within 365 days block bidding for 30 days."""

    default_detail = "You cannot bid for now: too many won auctions cancelled."


class BuyNowUnavailable(Conflict):
    default_detail = "Buy Now is not available on this auction."


__all__ = [
    "AuctionClosed",
    "AuctionEnded",
    "AuctionNotFound",
    "BidTooLow",
    "BiddingBlocked",
    "BuyNowUnavailable",
    "InsufficientCoins",
    "InvalidBid",
    "OwnAuction",
]
