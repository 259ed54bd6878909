"""Demo listings for ``marketplace demo``: fixed-price items and auctions in Chinese and English, with photos.

The photos are drawn with Pillow (a colour gradient and a caption), then go through the same upload path as a
seller's photos. Sellers are funded from the platform's adjustments account, and every listing pays its fee
through ListingService, so the demo ledger is as real as any other.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.categories.models import Category
from marketplace.listings.services import ListingService
from marketplace.settings import Settings
from marketplace.wallet import ledger

DEMO_COINS = 5_000

# (seller, category slug, draft, photo captions)
ITEMS: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("alice", "used-phones", {"title": "二手手机 九成新", "mode": "fixed", "price": 800, "quantity": 1,
     "description": "小米 11，九成新，无划痕，电池健康 90%。\nXiaomi 11, 90% new, no scratches, battery health 90%."},
     ["Xiaomi 11", "Back", "Box"]),
    ("bob", "used-phones", {"title": "iPhone 13 128GB — battery 89%", "mode": "auction", "start_price": 1500,
     "buy_now_price": 3000, "duration_seconds": 86400,
     "description": "Unlocked, always in a case. Comes with the original cable.\n国行无锁，一直带壳使用。"},
     ["iPhone 13", "Screen"]),
    ("carol", "phone-accessories", {"title": "Type-C 快充数据线 2米 USB-C fast charging cable", "mode": "fixed",
     "price": 15, "quantity": 50, "featured": True,
     "description": "60W PD, braided nylon, 2 m. 编织线，耐用。"}, ["USB-C 2m"]),
    ("alice", "laptops", {"title": "ThinkPad X1 Carbon 2019 笔记本", "mode": "auction", "start_price": 2000,
     "reserve_price": 2500, "duration_seconds": 3 * 86400,
     "description": "i7-8665U, 16 GB RAM, 512 GB SSD. Keyboard like new.\n键盘完好，电池正常。"},
     ["ThinkPad X1", "Keyboard"]),
    ("bob", "desktops", {"title": "游戏台式机 RTX 3060 Gaming PC", "mode": "fixed", "price": 4500, "quantity": 1,
     "description": "Ryzen 5 5600, RTX 3060 12 GB, 32 GB RAM, 1 TB NVMe. Pick-up or shipped insured."},
     ["Gaming PC", "RTX 3060", "Inside"]),
    ("carol", "cameras", {"title": "Canon AE-1 胶片相机 + 50mm f/1.8", "mode": "auction", "start_price": 600,
     "buy_now_price": 1200, "duration_seconds": 2 * 3600, "featured": True,
     "description": "Film camera from 1978, light meter works, new seals.\n测光正常，已换新海绵。"},
     ["Canon AE-1", "50mm lens"]),
    ("bob", "coins-currency", {"title": "清代 光绪元宝 银币 Qing dynasty silver coin", "mode": "auction",
     "start_price": 3000, "reserve_price": 5000, "duration_seconds": 1800,
     "description": "Guangxu Yuanbao, Hubei province, 7 mace 2 candareens. Certificate included."},
     ["Silver coin", "Reverse"]),
    ("alice", "stamps", {"title": "1980 庚申猴票 Monkey stamp", "mode": "auction", "start_price": 8000,
     "duration_seconds": 7 * 86400, "description": "The famous 1980 Year of the Monkey stamp, mint, never hinged."},
     ["Monkey 1980"]),
    ("carol", "porcelain", {"title": "青花瓷 花瓶 Blue and white porcelain vase", "mode": "fixed", "price": 1200,
     "quantity": 1, "description": "Jingdezhen, 32 cm tall, hand painted. 景德镇手绘。"}, ["Vase", "Detail"]),
    ("alice", "women", {"title": "女士羊毛大衣 Wool coat, size M", "mode": "fixed", "price": 350, "quantity": 2,
     "description": "80% wool, camel colour, worn twice. 只穿过两次。"}, ["Wool coat"]),
    ("bob", "shoes", {"title": "Nike Air Max 90 — 42码", "mode": "fixed", "price": 420, "quantity": 1,
     "description": "EU 42, white/red, lightly worn, original box."}, ["Air Max 90", "Sole"]),
    ("carol", "fiction", {"title": "三体 全集 The Three-Body Problem trilogy", "mode": "fixed", "price": 60,
     "quantity": 5, "description": "刘慈欣《三体》三册全套，九五新。Chinese edition, all three volumes."},
     ["Three-Body"]),
    ("alice", "kitchen", {"title": "Cast iron skillet 铸铁锅 26cm", "mode": "fixed", "price": 120, "quantity": 3,
     "description": "Pre-seasoned, works on induction. 电磁炉可用。"}, ["Skillet 26cm"]),
    # Chinese written without spaces, and one in traditional characters: search segments and folds them
    # (marketplace/listings/tokens.py), so 青花花瓶, 游戏电脑, 徕卡相机 and 茶壶 each find one of these.
    ("carol", "porcelain", {"title": "清代青花花瓶一只", "mode": "fixed", "price": 2600, "quantity": 1,
     "description": "高约28厘米，底款清晰，品相完好。Qing dynasty blue and white vase, 28 cm."}, ["Qing vase"]),
    ("bob", "desktops", {"title": "高配游戏电脑主机", "mode": "fixed", "price": 6800, "quantity": 1,
     "description": "i7-13700K，RTX 4070，32G内存，2T固态。可上门自提。"}, ["Gaming tower"]),
    ("alice", "cameras", {"title": "徕卡相机M6胶片机", "mode": "fixed", "price": 4200, "quantity": 1,
     "description": "Leica M6 film camera, 0.72 viewfinder, serviced in 2024."}, ["Leica M6"]),
    ("carol", "kitchen", {"title": "宜興紫砂茶壺 手工", "mode": "fixed", "price": 480, "quantity": 2,
     "description": "傳統手工紫砂壺，容量220毫升。Handmade Yixing clay teapot, 220 ml."}, ["Yixing teapot"]),
]

# docs/rules.md §19.7: each demo item's condition and location, by its position in ITEMS
FACTS: list[tuple[str, str]] = [
    ("like_new", "上海 浦东"), ("used", "北京 朝阳"), ("new", "深圳 南山"), ("used", "杭州 西湖"),
    ("used", "广州 天河"), ("used", "成都 武侯"), ("used", "武汉 江汉"), ("like_new", "南京 鼓楼"),
    ("like_new", "景德镇 珠山"), ("like_new", "上海 静安"), ("used", "北京 海淀"), ("like_new", "西安 雁塔"),
    ("new", "上海 徐汇"),
]

# One listing the seller edited after publishing, so its page shows "edited 2 times" (docs/rules.md §19.7).
EDITED_TITLE = "Cast iron skillet 铸铁锅 26cm"
EDITS: list[dict[str, Any]] = [
    {"title": "Cast iron skillet 铸铁锅 26cm — with lid 带锅盖", "price": 135},
    {"description": "Pre-seasoned, works on induction. Glass lid included. 电磁炉可用，附玻璃锅盖。",
     "condition": "new", "location": "上海 徐汇"},
]

PALETTES = [((232, 89, 12), (255, 214, 165)), ((23, 92, 211), (178, 221, 255)), ((6, 118, 71), (187, 247, 208)),
            ((124, 58, 237), (233, 213, 255)), ((180, 35, 24), (254, 205, 202)), ((16, 24, 40), (152, 162, 179))]


def demo_photo(caption: str, index: int) -> bytes:
    """A 900×675 JPEG: a diagonal gradient and the caption (Pillow's bundled font is Latin-only)."""
    start, end = PALETTES[index % len(PALETTES)]
    width, height = 900, 675
    gradient = Image.linear_gradient("L").rotate(45, expand=True).resize((width, height))
    img = Image.composite(Image.new("RGB", (width, height), end), Image.new("RGB", (width, height), start), gradient)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=64)
    box = draw.textbbox((0, 0), caption, font=font)
    x, y = (width - (box[2] - box[0])) / 2, (height - (box[3] - box[1])) / 2
    draw.rounded_rectangle((x - 30, y - 20, x + box[2] - box[0] + 30, y + box[3] - box[1] + 40), radius=24,
                           fill=(255, 255, 255))
    draw.text((x, y), caption, font=font, fill=start)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=88)
    return out.getvalue()


async def seed(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    for name in ("alice", "bob", "carol"):
        await ledger.post(
            session, kind="adjustment",
            legs=[ledger.Leg(ledger.platform("adjustments"), -DEMO_COINS),
                  ledger.Leg(ledger.available(users[name].id), DEMO_COINS)],
            ref_type="user", ref_id=users[name].id, memo="demo coins",
        )
    categories = {c.slug: c.id for c in await session.scalars(select(Category))}
    service = ListingService(session, settings)
    photo_index = 0
    for index, (seller, slug, draft, captions) in enumerate(ITEMS):
        if slug not in categories:
            continue
        condition, location = FACTS[index % len(FACTS)]
        data = {"description": "", "condition": condition, "location": location, **draft,
                "category_id": categories[slug]}
        if data["mode"] == "auction":
            data["duration_seconds"] = min(max(data["duration_seconds"], settings.min_auction_seconds),
                                           settings.max_auction_seconds)
        listing = await service.create(users[seller].id, data)
        for caption in captions:
            await service.add_image(listing.id, users[seller].id, demo_photo(caption, photo_index))
            photo_index += 1
        if draft["title"] == EDITED_TITLE:
            for patch in EDITS:
                await service.edit(listing.id, users[seller].id, patch)
