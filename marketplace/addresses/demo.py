"""Demo address books (docs/rules.md §19.4): bob, alice and carol can check out with an address at once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.addresses.services import AddressBook
from marketplace.settings import Settings

BOOKS = {
    "bob": [{"name": "Bob 陈", "phone": "13800138000", "province": "上海市", "city": "上海市", "district": "徐汇区",
             "detail": "漕溪北路 88 号 12 楼"},
            {"name": "Bob 陈 (office)", "phone": "13900139000", "province": "江苏省", "city": "苏州市",
             "district": "工业园区", "detail": "星湖街 328 号"}],
    "alice": [{"name": "Alice 李", "phone": "15012345678", "province": "广东省", "city": "深圳市",
               "district": "南山区", "detail": "科技园南区 1 栋"}],
    "carol": [{"name": "Carol 王", "phone": "18698765432", "province": "北京市", "city": "北京市",
               "district": "朝阳区", "detail": "建国路 93 号"}],
}


async def seed(session: AsyncSession, settings: Settings, users: dict[str, User]) -> None:
    for username, rows in BOOKS.items():
        user = users.get(username)
        if user is None:
            continue
        book = AddressBook(session, user.id)
        for raw in rows:
            await book.add(dict(raw))
