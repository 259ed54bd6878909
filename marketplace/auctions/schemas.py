"""What the auction API and the live channel say about an auction (docs/api.md "Listings, bids" and "Live updates")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from marketplace.auctions import rules
from marketplace.db import iso
from marketplace.listings.models import Listing
from marketplace.listings.serializers import auction_fields


def channel_name(listing_id: int) -> str:
    """One channel per listing (docs/architecture.md)."""
    return f"listing:{listing_id}"



def state_of(listing: Listing) -> rules.AuctionState:
    """The rules' view of an auction row."""
    assert listing.ends_at is not None, "not an auction row"
    assert listing.start_price is not None, "not an auction row"
    return rules.AuctionState(
        start_price=listing.start_price,
        current_price=listing.current_price,
        ends_at=listing.ends_at,
        seller_id=listing.seller_id,
        reserve_price=listing.reserve_price,
        buy_now_price=listing.buy_now_price,
        leader_id=listing.leader_id,
        leader_max=listing.leader_max,
        runner_up_max=listing.runner_up_max,
        bid_count=listing.bid_count,
        auto_extend=listing.auto_extend,
        status=listing.status,
    )


def bid_message(listing: Listing) -> dict[str, Any]:
    """Sent to every watcher after an accepted bid. ``leader_id``/``version`` are extras: the page script uses
    them to show "you lead / you were outbid" and to ignore a message older than the snapshot it already has."""
    fields = auction_fields(listing)
    return {
        "type": "bid",
        "current_price": fields["current_price"],
        "bid_count": fields["bid_count"],
        "min_next_bid": fields["min_next_bid"],
        "ends_at": fields["ends_at"],
        "reserve_met": fields["reserve_met"],
        "buy_now_price": fields["buy_now_price"],
        "leader_id": listing.leader_id,
        "version": listing.version,
        "server_time": iso(datetime.now(UTC)),
    }


def closed_message(listing: Listing) -> dict[str, Any]:
    return {"type": "closed", "status": listing.status, "final_price": listing.current_price,
            "leader_id": listing.leader_id, "version": listing.version, "server_time": iso(datetime.now(UTC))}


class BidIn(msgspec.Struct, forbid_unknown_fields=False):
    max_amount: int


class BidPlaced(msgspec.Struct):
    current_price: int
    you_lead: bool
    bid_count: int
    min_next_bid: int
    ends_at: datetime
    reserve_met: bool | None

    @classmethod
    def of(cls, listing: Listing, viewer_id: int) -> BidPlaced:
        state = state_of(listing)
        return cls(current_price=state.current_price, you_lead=state.leader_id == viewer_id,
                   bid_count=state.bid_count, min_next_bid=state.min_next_bid, ends_at=state.ends_at,
                   reserve_met=state.reserve_met)


class BidStep(msgspec.Struct):
    """One visible price step of the public history: who led after it (masked) and the price it produced."""

    bidder: str
    amount: int
    created_at: datetime
