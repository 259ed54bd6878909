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

from marketplace import demo_membership as membership_demo
from marketplace.accounts import demo as accounts_demo
from marketplace.accounts.models import User
from marketplace.accounts.services import AccountService
from marketplace.addresses import demo as addresses_demo
from marketplace.auctions import demo as auctions_demo
from marketplace.cards import demo as cards_demo
from marketplace.categories.models import Category
from marketplace.listings import demo_data as listings_demo
from marketplace.notifications import demo as notifications_demo
from marketplace.settings import Settings
from marketplace.shops import demo_data as shops_demo
from marketplace.site import demo as site_demo
from marketplace.wallet import demo as wallet_demo

DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 - the published demo password, printed by `marketplace demo`
DEMO_USERS = (
    ("admin", "admin@example.com", True),
    ("alice", "alice@example.com", False),
    ("bob", "bob@example.com", False),
    ("carol", "carol@example.com", False),
    ("auditor", "auditor@example.com", True),  # a second admin: the checker of the demo card batch
    # the membership demo's buyers (marketplace/demo_membership.py makes their levels)
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

Seeder = Callable[[AsyncSession, Settings, dict[str, User]], Awaitable[None]]
SEEDERS: list[Seeder] = []
DOMAIN_SEEDERS: tuple[Seeder, ...] = (
    accounts_demo.seed, wallet_demo.seed, shops_demo.seed, listings_demo.seed, auctions_demo.seed, membership_demo.seed,
    notifications_demo.seed, cards_demo.seed, site_demo.seed, addresses_demo.seed,
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
