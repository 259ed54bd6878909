"""Imports every mapped class so that ``Base.metadata`` is complete (Alembic, tests)."""

from marketplace.accounts.models import ApiToken, User
from marketplace.auctions.models import Bid
from marketplace.categories.models import Category
from marketplace.db import Base
from marketplace.listings.models import Listing, ListingImage
from marketplace.orders.models import Feedback, Order, OrderEvent
from marketplace.shops.models import Shop
from marketplace.wallet.models import LedgerAccount, LedgerEntry, LedgerTransaction, TopUp

__all__ = [
    "ApiToken",
    "Base",
    "Bid",
    "Category",
    "Feedback",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "Listing",
    "ListingImage",
    "Order",
    "OrderEvent",
    "Shop",
    "TopUp",
    "User",
]
