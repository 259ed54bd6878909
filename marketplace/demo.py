"""Demo data for ``marketplace demo``: users, a bilingual category tree, and whatever other domains add.

Seeding is idempotent: it only runs against an empty users table. Domains add their own demo data with an
``async def seed(session, settings, users)`` listed in :data:`DOMAIN_SEEDERS`; they run in that order
(coins first, then shops, listings, auctions, prepaid cards, site blocks and a report).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import demo_messages as messages_demo
from marketplace.accounts import demo as accounts_demo
from marketplace.accounts.models import User
from marketplace.accounts.services import AccountService
from marketplace.addresses import demo as addresses_demo
from marketplace.auctions import demo as auctions_demo
from marketplace.cards import demo as cards_demo
from marketplace.categories.models import Category
from marketplace.db import utcnow
from marketplace.listings import demo_data as listings_demo
from marketplace.listings.services import ListingService
from marketplace.membership import rules, services
from marketplace.notifications import demo as notifications_demo
from marketplace.orders.services import OrderService, buy_fixed
from marketplace.settings import Settings
from marketplace.shops import demo_data as shops_demo
from marketplace.site import demo as site_demo
from marketplace.wallet import demo as wallet_demo
from marketplace.wallet.services import WalletService

DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 - the published demo password, printed by `marketplace demo`
DEMO_USERS = (
    ("admin", "admin@example.com", True),
    ("alice", "alice@example.com", False),
    ("bob", "bob@example.com", False),
    ("carol", "carol@example.com", False),
    ("auditor", "auditor@example.com", True),  # a second admin: the checker of the demo card batch
    # the membership demo's buyers (seed_members below makes their levels)
    ("wang", "wang@example.com", False),
    ("liu", "liu@example.com", False),
    ("zhao", "zhao@example.com", False),
)

# (name, slug, children)
CATEGORY_TREE: list[tuple[str, str, list[Any]]] = [
    ("数码 Electronics", "electronics", [
        ("手机 Phones", "phones", [
            ("二手手机 Used phones", "used-phones", []),
            ("手机配件 Accessories", "phone-accessories", []),
        ]),
        ("电脑 Computers", "computers", [
            ("笔记本 Laptops", "laptops", []),
            ("台式机 Desktops", "desktops", []),
        ]),
        ("相机 Cameras", "cameras", []),
    ]),
    ("收藏 Collectibles", "collectibles", [
        ("钱币 Coins & Currency", "coins-currency", []),
        ("邮票 Stamps", "stamps", []),
        ("古董 Antiques", "antiques", [
            ("瓷器 Porcelain", "porcelain", []),
            ("字画 Calligraphy & Painting", "calligraphy", []),
        ]),
    ]),
    ("服饰 Fashion", "fashion", [
        ("女装 Women", "women", []),
        ("男装 Men", "men", []),
        ("鞋靴 Shoes", "shoes", []),
    ]),
    ("图书 Books", "books", [
        ("小说 Fiction", "fiction", []),
        ("漫画 Comics & Manga", "comics", []),
    ]),
    ("家居 Home & Garden", "home-garden", [
        ("厨具 Kitchen", "kitchen", []),
        ("家具 Furniture", "furniture", []),
    ]),
]

# --- Demo members: buyers at several levels with points, made the real way — purchases
# through orders.services.buy_fixed, completed through OrderService, points granted through the ledger engine.
#
# * ``wang`` J2, ``liu`` J3, ``zhao`` J5 (password: the demo password): completed purchases from bob (who has no
#   shop, so carol's shop keeps the listings the shops demo gave it);
# * ``alice`` J1 with 2,500 available points (to try redeeming on the buy form) and 124 frozen points from a
#   1,235-coin purchase that unfreeze 7 days after it completed;
# * bob's "Cast-iron teapot" has an 80-coin shipping fee: free shipping for an order of 2+ (1,880 coins ≥ 188 yuan).

# (username, spend in coins): J2 from 10,001, J3 from 80,001, J5 above 800,000
MEMBER_SPEND = (("wang", 12_000), ("liu", 100_000), ("zhao", 850_000))


async def _buy_completed(session: AsyncSession, settings: Settings, seller: User, buyer: User, category_id: int,
                         title: str, price: int) -> None:
    listings = ListingService(session, settings)
    listing = await listings.create(seller.id, {"title": title, "mode": "fixed", "price": price, "quantity": 1,
                                                "category_id": category_id, "condition": "used",
                                                "location": "景德镇 珠山",
                                                "description": "Membership demo purchase. 会员演示订单。"})
    order = await buy_fixed(session, settings, listing.id, buyer.id, 1)
    orders = OrderService(session, settings)
    await orders.ship(order.id, seller.id, "SF1234567890")
    await orders.confirm(order.id, buyer.id)


async def seed_members(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    categories = {c.slug: c.id for c in await session.scalars(select(Category))}
    seller, admin = users.get("bob"), users.get("admin")
    category_id = categories.get("porcelain")
    if seller is None or category_id is None:
        return
    wallet = WalletService(session, settings)
    admin_id = admin.id if admin else None
    await wallet.adjust(seller.id, 100, "demo: listing fees for membership demo items", admin_id=admin_id)
    for username, spend in MEMBER_SPEND:
        member = users.get(username)
        if member is None:
            continue
        await wallet.adjust(member.id, spend + 2_000, "demo starting balance", admin_id=admin_id)
        await _buy_completed(session, settings, seller, member, category_id, f"青花瓷瓶 Blue-and-white vase "
                             f"({username}'s purchase)", spend)
    alice = users.get("alice")
    if alice is not None:
        await wallet.adjust(alice.id, 1_235, "demo: a J1 purchase", admin_id=admin_id)
        await _buy_completed(session, settings, seller, alice, category_id, "粉彩小碗 Famille-rose bowl", 1_235)
        await services.grant_points(session, alice.id, 2_500, now=utcnow(), settings=settings,
                                    memo="demo: welcome points")
    kitchen = categories.get("kitchen")
    if kitchen is not None:
        teapot = await ListingService(session, settings).create(seller.id, {
            "title": "铸铁茶壶 Cast-iron teapot", "mode": "fixed", "price": 940, "quantity": 10,
            "category_id": kitchen, "shipping_fee": 80, "condition": "new", "location": "上海 静安",
            "description": "Shipping 80 coins; free from an items total of 188 yuan (buy two). 满188包邮。"})
        assert teapot.shipping_fee == 80
        # Membership II (docs/rules.md §15): member-day listings (one with a PLUS price) for the /member-day zone
        for title, price, plus_price in (("景德镇茶杯 Jingdezhen teacup", 1_001, None),
                                         ("紫砂壶 Yixing clay teapot", 2_400, 2_100)):
            await ListingService(session, settings).create(seller.id, {
                "title": title, "mode": "fixed", "price": price, "quantity": 20, "category_id": kitchen,
                "member_day": True, "plus_price": plus_price, "condition": "new", "location": "宜兴 丁蜀",
                "description": f"Member day (day {settings.member_day}): J2–J5 pay 10–40 % less. 会员日特惠。"})
    zhao, wang = users.get("zhao"), users.get("wang")
    now = utcnow()
    if zhao is not None:  # a PLUS member (points ×10, free shipping, PLUS prices)
        await wallet.adjust(zhao.id, settings.plus_price, "demo: PLUS membership", admin_id=admin_id)
        await services.buy_plus(session, zhao.id, auto_renew=True, now=now, settings=settings)
    if wang is not None:  # a birthday this month: a 20-yuan coupon waiting at checkout (the Yixing teapot, 2,400)
        await wallet.adjust(wang.id, 1_000, "demo: enough for the Yixing teapot with the birthday coupon",
                            admin_id=admin_id)
        await services.set_birthday(session, wang.id, rules.local_month_year(now, settings.timezone)[0], 1, now,
                                    settings)
    await session.flush()
    await services.recompute_badges(session, now, settings)  # the daily job's work, so profiles show badges now


Seeder = Callable[[AsyncSession, Settings, dict[str, User]], Awaitable[None]]
SEEDERS: list[Seeder] = []
DOMAIN_SEEDERS: tuple[Seeder, ...] = (
    accounts_demo.seed, wallet_demo.seed, shops_demo.seed, listings_demo.seed, auctions_demo.seed, seed_members,
    notifications_demo.seed, cards_demo.seed, site_demo.seed, addresses_demo.seed, messages_demo.seed,
)


async def seed_categories(session: AsyncSession) -> None:
    async def add(nodes: list[Any], parent_id: int | None) -> None:
        for position, (name, slug, children) in enumerate(nodes):
            cat = Category(name=name, slug=slug, parent_id=parent_id, position=position)
            session.add(cat)
            await session.flush()
            await add(children, cat.id)

    await add(CATEGORY_TREE, None)


async def seed(session: AsyncSession, settings: Settings) -> bool:
    """Seed an empty database; returns False when there was already data."""
    if await session.scalar(select(func.count()).select_from(User)):
        return False
    accounts = AccountService(session)
    users: dict[str, User] = {}
    for username, email, is_admin in DEMO_USERS:
        users[username] = await accounts.register(username, email, DEMO_PASSWORD, is_admin=is_admin)
    users["bob"].language = "en"  # bob reads the site in English whatever his browser says (README "Languages")
    await seed_categories(session)
    for seeder in [*DOMAIN_SEEDERS, *SEEDERS]:
        await seeder(session, settings, users)
    return True
