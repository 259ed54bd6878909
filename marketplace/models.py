"""Imports every mapped class so that ``Base.metadata`` is complete (Alembic, tests)."""

from marketplace.accounts.models import ApiToken, User
from marketplace.auctions.models import Bid
from marketplace.cards.models import Card, CardBatch, CardEvent, CardRedeemFailure
from marketplace.categories.models import Category
from marketplace.db import Base
from marketplace.listings.models import Listing, ListingImage
from marketplace.membership.models import Membership, PointsLot, PointsLotUse
from marketplace.notifications.models import (
    EmailOutbox,
    Notification,
    NotificationSetting,
    SavedSearch,
    WatchlistItem,
)
from marketplace.orders.models import Feedback, Order, OrderEvent
from marketplace.shops.models import Shop
from marketplace.site.models import Block, Report, TemplateVersion
from marketplace.wallet.models import LedgerAccount, LedgerEntry, LedgerTransaction, TopUp

__all__ = [
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
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "Listing",
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
    "Shop",
    "TemplateVersion",
    "TopUp",
    "User",
    "WatchlistItem",
]
