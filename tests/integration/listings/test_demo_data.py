"""The demo seeder publishes bilingual listings with photos, pays their fees, and leaves the ledger balanced."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import demo
from marketplace.categories.models import Category
from marketplace.listings import demo_data as listings_demo
from marketplace.listings import rules
from marketplace.listings.models import Listing, ListingEdit, ListingImage
from marketplace.orders.models import Order
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.models import LedgerAccount, LedgerEntry, LedgerTransaction
from tests.integration.orders.test_buy_race import assert_ledger_balances


async def test_demo_listings(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    async with sessions() as s, s.begin():
        assert await demo.seed(s, settings)
    async with sessions() as s:
        listings = list(await s.scalars(select(Listing)))
        assert len(listings) >= 12
        assert {lst.mode for lst in listings} == {"fixed", "auction"}
        phone = next(lst for lst in listings if lst.title == "二手手机 九成新")
        assert await s.scalar(select(Category.slug).where(Category.id == phone.category_id)) == "used-phones"
        images = list(await s.scalars(select(ListingImage)))
        assert len(images) >= len(listings)
        assert all((settings.media_dir / i.storage_key).is_file() for i in images)
        fees = sum(lst.insertion_fee + (settings.fee_featured if lst.featured else 0) for lst in listings)
        # revenue = listing fees + the demo shop's first plan period (the shops seeder runs too) + zhao's PLUS
        plans = await s.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                               .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
                               .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
                               .where(LedgerTransaction.kind.in_(("shop_plan", "plus")),
                                      LedgerAccount.key == "platform:revenue"))
        # ... and the final value fees of the membership demo's completed purchases
        final_value = await s.scalar(select(func.coalesce(func.sum(Order.fee), 0)))
        assert await ledger.balance(s, ledger.platform("revenue")) == fees + plans + final_value
        assert await s.scalar(select(func.count()).select_from(Listing).where(Listing.featured.is_(True))) >= 1
        # docs/rules.md §19.7: conditions and locations, and one listing with an edit history
        seeded = [lst for lst in listings if lst.title in {item[2]["title"] for item in listings_demo.ITEMS}]
        assert len(seeded) >= 12
        assert all(lst.condition in rules.CONDITIONS and lst.location for lst in seeded)
        # every demo listing, whichever seeder made it (shops, auctions, membership), has both (README)
        bare = [(lst.id, lst.title) for lst in listings if lst.condition not in rules.CONDITIONS or not lst.location]
        assert bare == []
        edited = next(lst for lst in listings if lst.title.startswith("Cast iron skillet"))
        assert (edited.edit_count, edited.price, edited.condition) == (2, 135, "new")
        assert await s.scalar(select(func.count()).select_from(ListingEdit)
                              .where(ListingEdit.listing_id == edited.id)) == 2
        await assert_ledger_balances(s)


async def test_demo_members(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    from marketplace.accounts.models import User
    from marketplace.membership.models import Membership
    from marketplace.wallet.audit import audit

    async with sessions() as s, s.begin():
        assert await demo.seed(s, settings)
    async with sessions() as s:
        levels = dict((await s.execute(select(User.username, Membership.level)
                                       .join(Membership, Membership.user_id == User.id))).tuples().all())
        assert levels == {"wang": "J2", "liu": "J3", "zhao": "J5", "alice": "J1"}
        alice = await s.scalar(select(User.id).where(User.username == "alice"))
        assert alice is not None
        assert await ledger.balance(s, ledger.points_available(alice)) == 2_500
        assert await ledger.balance(s, ledger.points_frozen(alice)) == 124
        teapot = await s.scalar(select(Listing).where(Listing.title == "铸铁茶壶 Cast-iron teapot"))
        assert teapot is not None
        assert teapot.shipping_fee == 80
        # a newcomer signing in as wang sees a usable birthday coupon on the Yixing teapot's checkout
        from marketplace.auctions.services import quote
        from marketplace.db import utcnow
        from marketplace.membership import services as membership

        wang = await s.scalar(select(User.id).where(User.username == "wang"))
        yixing = await s.scalar(select(Listing.id).where(Listing.title == "紫砂壶 Yixing clay teapot"))
        assert wang is not None
        assert yixing is not None
        base = await quote(s, yixing, wang, 1, 0, utcnow(), settings)
        choices = await membership.coupon_choices(s, wang, list_items_total=base.quantity * base.unit_price,
                                                  points=0, now=utcnow())
        assert [(c.value, c.refusal) for c in choices] == [(200, None)]
        with_coupon = await quote(s, yixing, wang, 1, 0, utcnow(), settings, coupon_id=choices[0].id)
        assert with_coupon.pricing.total == 2_200
        assert with_coupon.balance_after >= 0
        report = await audit(s)
        assert report.ok, report.text()
