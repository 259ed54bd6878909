"""Imports every mapped class so that ``Base.metadata`` is complete (Alembic, tests)."""

from marketplace.accounts.models import ApiToken, User
from marketplace.auctions.models import Bid
from marketplace.catalog.models import Category, Listing, ListingImage
from marketplace.db import Base
from marketplace.orders.models import Feedback, Order, OrderEvent
from marketplace.shops.models import Shop
from marketplace.site.models import Block, Report, TemplateVersion
from marketplace.wallet.models import LedgerAccount, LedgerEntry, LedgerTransaction, TopUp

__all__ = [
    "ApiToken",
    "Base",
    "Bid",
    "Block",
    "Category",
    "Feedback",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "Listing",
    "ListingImage",
    "Order",
    "OrderEvent",
    "Report",
    "Shop",
    "TemplateVersion",
    "TopUp",
    "User",
]
