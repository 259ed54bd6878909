"""Imports every mapped class so that ``Base.metadata`` is complete (Alembic, tests)."""

from marketplace.accounts.models import ApiToken, User
from marketplace.addresses.models import Address
from marketplace.auctions.models import Bid, SecondChanceOffer
from marketplace.cards.models import Card, CardBatch, CardEvent, CardRedeemFailure
from marketplace.categories.models import Category
from marketplace.db import Base
from marketplace.idempotency import IdempotencyRecord
from marketplace.listings.models import Listing, ListingEdit, ListingImage
from marketplace.membership.models import Membership, PointsLot, PointsLotUse
from marketplace.notifications.models import (
    EmailOutbox,
    Notification,
    NotificationSetting,
    SavedSearch,
    WatchlistItem,
)
from marketplace.orders.models import Feedback, Order, OrderEvent, Strike
from marketplace.shops.models import Shop
from marketplace.site.models import Block, Report, TemplateVersion
from marketplace.wallet.models import LedgerAccount, LedgerEntry, LedgerTransaction, TopUp

__all__ = [
    "Address",
    "ApiToken",
    "Base",
    "Bid",
    "Block",
    "Card",
    "CardBatch",
    "CardEvent",
    "CardRedeemFailure",
    "Category",
    "EmailOutbox",
    "Feedback",
    "IdempotencyRecord",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "Listing",
    "ListingEdit",
    "ListingImage",
    "Membership",
    "Notification",
    "NotificationSetting",
    "Order",
    "OrderEvent",
    "PointsLot",
    "PointsLotUse",
    "Report",
    "SavedSearch",
    "SecondChanceOffer",
    "Shop",
    "Strike",
    "TemplateVersion",
    "TopUp",
    "User",
    "WatchlistItem",
]
