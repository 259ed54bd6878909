"""Notifications stored with a message id and values read in the reader's language: the page in Chinese or in
English (Accept-Language), an older row without a message id in its English text, the API's ``title``/``body``
always English, and the e-mail and live message in the recipient's own language (docs/architecture.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace import i18n
from marketplace.accounts.models import User
from marketplace.db import drain_after_commit
from marketplace.i18n import Text
from marketplace.notifications import rules
from marketplace.notifications.models import EmailOutbox, Notification
from marketplace.notifications.services import _live_message, notification_out, notify
from tests.factories import db_user, html_login

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


async def test_page_translates_stored_messages_and_keeps_old_rows(client: Any, sessions: Any) -> None:
    me = await db_user(sessions)
    async with sessions() as s, s.begin():
        new = await notify(s, me.id, "order_message", Text("New message on order #%(order)s", {"order": 5}),
                           body=Text("The buyer wrote on the order.", {}), url="/orders/5")
        old = await notify(s, me.id, "outbid", "Legacy English note", body="Old body text", url="/listings/1")
        assert new is not None
        assert old is not None
    await drain_after_commit()
    async with sessions() as s:
        row = await s.get(Notification, new)
        assert row is not None
        assert row.title == "New message on order #5"  # the English text, as the API has always shown it
        assert notification_out(row)["title"] == "New message on order #5"
        assert notification_out(row)["body"] == "The buyer wrote on the order."
        assert row.params == {"title": {"msgid": "New message on order #%(order)s", "values": {"order": 5}},
                              "body": {"msgid": "The buyer wrote on the order.", "values": {}}}
        legacy = await s.get(Notification, old)
        assert legacy is not None
        assert legacy.params is None
    await html_login(client, me.username)
    r = await client.get("/notifications", headers=ZH)
    assert r.status_code == 200
    assert "订单 #5 有新留言" in r.text
    assert "买家在订单中留言了。" in r.text
    assert "New message on order #5" not in r.text
    assert "Legacy English note" in r.text
    assert "Old body text" in r.text
    r = await client.get("/notifications", headers=EN)
    assert r.status_code == 200
    assert "New message on order #5" in r.text
    assert "The buyer wrote on the order." in r.text
    assert "订单 #5 有新留言" not in r.text
    assert "Legacy English note" in r.text


async def test_email_and_live_message_use_the_recipients_language(sessions: Any) -> None:
    zh, en = await db_user(sessions), await db_user(sessions)
    async with sessions() as s, s.begin():
        (await s.get(User, zh.id)).language = "zh_CN"  # type: ignore[union-attr]
        (await s.get(User, en.id)).language = "en"  # type: ignore[union-attr]
    title = rules.saved_search_title(rules.SearchQuery(q="相机", mode="auction", max_price=300), 2)
    body = Text("New listings match your saved search %(search)s.", {"search": title.values["search"]})
    with i18n.use_locale("en"):  # whoever caused it reads English: the recipients still get their own language
        async with sessions() as s, s.begin():
            zh_id = await notify(s, zh.id, "saved_search", title, body=body, url="/search?q=x")
            en_id = await notify(s, en.id, "saved_search", title, body=body, url="/search?q=x")
    await drain_after_commit()
    async with sessions() as s:
        mails = {m.notification_id: m for m in await s.scalars(
            select(EmailOutbox).where(EmailOutbox.notification_id.in_([zh_id, en_id])))}
        zh_row = await s.get(Notification, zh_id)
        assert zh_row is not None
    assert mails[zh_id].subject == "您的搜索 “相机”，拍卖，≤ 300 金币 有 2 件新商品"
    assert "有新商品符合您保存的搜索 “相机”，拍卖，≤ 300 金币。" in mails[zh_id].body
    assert mails[en_id].subject == "2 new listings for your search “相机”, auctions, ≤ 300 coins"
    assert zh_row.title == "2 new listings for your search “相机”, auctions, ≤ 300 coins"
    live = _live_message(1, "saved_search", zh_row.title, "/x", 1, zh_row.params, "zh_CN")
    assert live["title"] == "2 new listings for your search “相机”, auctions, ≤ 300 coins"
    assert live["message"] == "您的搜索 “相机”，拍卖，≤ 300 金币 有 2 件新商品"
    assert _live_message(1, "outbid", "Plain", "/x", 1, None, "zh_CN")["message"] == "Plain"


def test_a_stored_message_that_cannot_be_formatted_shows_the_english_text() -> None:
    assert rules.shown({"title": {"msgid": "Order #%(id)s", "values": {}}}, "title", "Order #3") == "Order #3"
    assert rules.shown(None, "body", "Old") == "Old"
