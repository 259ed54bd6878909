"""docs/rules.md §19.8: banning a seller, in the admin's one transaction — active listings end (an auction's
leader gets the hold back), paid unshipped sales are cancelled with a full refund, shipped ones follow their
course, the shop is hidden with the reason; the ledger stays balanced. An unban lifts the shop's suspension."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.exceptions import AccountBanned
from marketplace.accounts.models import User
from marketplace.accounts.services import AccountService
from marketplace.admin.services import AdminService
from marketplace.auctions.services import BidService
from marketplace.db import utcnow
from marketplace.listings.models import Listing
from marketplace.orders.models import Order, Strike
from marketplace.orders.services import OrderService
from marketplace.settings import Settings
from marketplace.shops.models import Shop
from marketplace.wallet import ledger
from marketplace.wallet.audit import audit
from tests.factories import ledger_problems, make_listing, make_order, make_user, quick_user


async def test_ban_ends_listings_releases_holds_refunds_unshipped_orders_and_hides_the_shop(
        sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    now = utcnow()
    async with sessions() as s, s.begin():
        admin = await make_user(s, is_admin=True)
        seller = await make_user(s)
        bidder = await quick_user(s)
        await ledger.post(s, kind="adjustment", ref_type="user", ref_id=bidder.id, memo="test",
                          legs=[ledger.Leg(ledger.platform("adjustments"), -500),
                                ledger.Leg(ledger.available(bidder.id), 500)])
        auction = await make_listing(s, seller, mode="auction", start_price=10)
        fixed = await make_listing(s, seller, price=80, quantity=5)
        paid = await make_order(s, seller=seller, price=120)
        shipped = await make_order(s, seller=seller, price=60)
        shop = Shop(owner_id=seller.id, name="Coin corner", slug=f"coin-corner-{seller.id}", plan="basic",
                    status="active", paid_until=now + timedelta(days=20), period_started_at=now)
        s.add(shop)
        ids = {"admin": admin.id, "seller": seller.id, "bidder": bidder.id, "auction": auction.id,
               "fixed": fixed.id, "paid": paid.id, "shipped": shipped.id, "paid_buyer": paid.buyer_id,
               "shop": 0}
        await s.flush()
        ids["shop"] = shop.id
    async with sessions() as s, s.begin():
        await BidService(s, settings).place_bid(ids["auction"], ids["bidder"], 200, utcnow())
        await OrderService(s, settings).ship(ids["shipped"], ids["seller"], "SF123")
    async with sessions() as s:
        assert await ledger.wallet_balances(s, ids["bidder"]) == (300, 200)

    async with sessions() as s, s.begin():
        user = await AdminService(s, settings=settings).set_banned(ids["admin"], ids["seller"], True,
                                                                   "  Selling   fakes ")
        assert user.ban_reason == "Selling fakes"

    async with sessions() as s:
        listings = {row.id: row.status for row in await s.scalars(
            select(Listing).where(Listing.seller_id == ids["seller"]))}
        assert listings[ids["auction"]] == "ended"
        assert listings[ids["fixed"]] == "ended"
        # the leading bidder has every coin back, nothing held
        assert await ledger.wallet_balances(s, ids["bidder"]) == (500, 0)
        paid_order = await s.get(Order, ids["paid"])
        shipped_order = await s.get(Order, ids["shipped"])
        assert paid_order is not None
        assert shipped_order is not None
        assert paid_order.status == "cancelled"
        assert "Seller banned: Selling fakes" in (paid_order.cancel_reason or "")
        assert await ledger.wallet_balances(s, ids["paid_buyer"]) == (120, 0)
        assert await ledger.balance(s, ledger.escrow(ids["paid"])) == 0
        # a shipped order is not touched: the buyer confirms or disputes, an admin resolves
        assert shipped_order.status == "shipped"
        strikes = list(await s.scalars(select(Strike).where(Strike.user_id == ids["seller"])))
        assert [(st.role, st.order_id) for st in strikes] == [("seller", ids["paid"])]
        shop_row = await s.get(Shop, ids["shop"])
        assert shop_row is not None
        assert (shop_row.status, shop_row.suspended_reason) == ("suspended", "Selling fakes")
        assert await ledger_problems(s) == []
        report = await audit(s)
        assert getattr(report, "ok", True), report

    # the banned seller cannot log in, and is told why
    async with sessions() as s:
        seller_row = await s.get(User, ids["seller"])
        assert seller_row is not None
        with pytest.raises(AccountBanned, match=r"^This account is suspended: Selling fakes$"):
            await AccountService(s).authenticate(seller_row.username, "correct-horse-battery")

    # unban: the shop (still paid for) comes back; the ended listings stay ended
    async with sessions() as s, s.begin():
        user = await AdminService(s, settings=settings).set_banned(ids["admin"], ids["seller"], False)
        assert (user.is_banned, user.ban_reason) == (False, None)
    async with sessions() as s:
        shop_row = await s.get(Shop, ids["shop"])
        assert shop_row is not None
        assert (shop_row.status, shop_row.suspended_reason) == ("active", None)
        assert (await s.get(Listing, ids["fixed"])).status == "ended"  # type: ignore[union-attr]


async def test_banning_twice_winds_down_once(sessions: async_sessionmaker[AsyncSession],
                                             settings: Settings) -> None:
    async with sessions() as s, s.begin():
        admin = await make_user(s, is_admin=True)
        order = await make_order(s, price=50)
        admin_id, seller_id, order_id = admin.id, order.seller_id, order.id
    for _ in range(2):
        async with sessions() as s, s.begin():
            await AdminService(s, settings=settings).set_banned(admin_id, seller_id, True)
    async with sessions() as s:
        assert (await s.get(Order, order_id)).status == "cancelled"  # type: ignore[union-attr]
        assert (await s.get(User, seller_id)).ban_reason == "Banned by an administrator."  # type: ignore[union-attr]
        assert await ledger_problems(s) == []
