"""E-mails are written in the recipient's language (docs/architecture.md "Languages"), whatever language the
request or job that caused them runs in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace import i18n, jobs
from marketplace.db import drain_after_commit
from marketplace.notifications.models import EmailOutbox
from marketplace.notifications.services import notify
from tests.factories import quick_user


class NoQueue:
    async def enqueue(self, name: str, *args: Any, **kw: Any) -> None:
        return None


async def _outbox_for(sessions: Any, language: str | None, caller_locale: str) -> EmailOutbox:
    saved = jobs.RUNTIME.publisher, jobs.RUNTIME.queue, jobs.RUNTIME.loop
    jobs.install_runtime(jobs.NullPublisher(), NoQueue())
    try:
        async with sessions() as s, s.begin():
            user = await quick_user(s)
            user.language = language
            with i18n.use_locale(caller_locale):  # e.g. the bidder's request that outbid this user
                await notify(s, user.id, "won", "Auction won", body="Thank you for your feedback.",
                             url="/orders/7")
        await drain_after_commit()
    finally:
        jobs.RUNTIME.publisher, jobs.RUNTIME.queue, jobs.RUNTIME.loop = saved
    async with sessions() as s:
        row = await s.scalar(select(EmailOutbox).where(EmailOutbox.to_address == user.email))
        assert row is not None
        return row


async def test_an_english_reader_gets_english_mail_from_a_chinese_request(sessions: Any) -> None:
    i18n.load_catalogs()
    row = await _outbox_for(sessions, "en", caller_locale="zh_CN")
    assert row.subject == "Auction won"
    assert "Thank you for your feedback." in row.body
    assert "Choose which e-mails you get: {base_url}/me/notification-settings" in row.body


async def test_a_chinese_reader_gets_chinese_mail_from_an_english_request(sessions: Any) -> None:
    i18n.load_catalogs()
    row = await _outbox_for(sessions, "zh_CN", caller_locale="en")
    assert row.subject == "得标"
    assert "感谢您的评价。" in row.body
    assert "币集。选择您接收哪些邮件：{base_url}/me/notification-settings" in row.body


async def test_no_setting_means_the_default_language(sessions: Any) -> None:
    i18n.load_catalogs()
    row = await _outbox_for(sessions, None, caller_locale="en")
    assert row.subject == "得标"
