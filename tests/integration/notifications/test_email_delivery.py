"""E-mail through a real SMTP server (aiosmtpd, in-process): sent by the job after commit, retried when the
server is down, logged when no server is configured, and never for a kind the user turned off."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from marketplace import jobs
from marketplace.db import drain_after_commit, utcnow
from marketplace.notifications import mail, tasks
from marketplace.notifications.models import EmailOutbox
from marketplace.notifications.services import notify
from marketplace.settings import Settings
from tests.factories import quick_user


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


class NoQueue:
    def __init__(self) -> None:
        self.enqueued: list[tuple[str, tuple[Any, ...]]] = []

    async def enqueue(self, name: str, *args: Any, **kw: Any) -> None:
        self.enqueued.append((name, args))


def ctx(sessions: Any, settings: Settings, now: Any = None) -> jobs.JobContext:
    return jobs.JobContext(settings=settings, session_factory=sessions, queue=NoQueue(),
                           publisher=jobs.NullPublisher(), now=(lambda: now) if now else utcnow)


async def one_notification(sessions: Any, queue: NoQueue) -> tuple[int, str]:
    saved = jobs.RUNTIME.publisher, jobs.RUNTIME.queue, jobs.RUNTIME.loop
    jobs.install_runtime(jobs.NullPublisher(), queue)
    try:
        async with sessions() as s, s.begin():
            user = await quick_user(s)
            await notify(s, user.id, "won", "You won Film camera", body="At 300 coins.", url="/orders/7")
        await drain_after_commit()
    finally:
        jobs.RUNTIME.publisher, jobs.RUNTIME.queue, jobs.RUNTIME.loop = saved
    (name, (outbox_id,)), = queue.enqueued
    assert name == "send_email"
    return outbox_id, user.email


async def test_email_sent_by_the_job_arrives(sessions: Any, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = Settings(smtp_url=f"smtp://127.0.0.1:{port}", base_url="https://market.example")
    queue = NoQueue()
    outbox_id, address = await one_notification(sessions, queue)
    assert inbox.messages == []  # nothing is sent inside the transaction
    assert await tasks.send_email(ctx(sessions, settings), outbox_id) == "sent"
    assert await tasks.send_email(ctx(sessions, settings), outbox_id) == "noop"  # a retried job sends nothing
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["To"] == address
    assert msg["Subject"] == "You won Film camera"
    body = msg.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "At 300 coins." in body
    assert "https://market.example/orders/7" in body
    async with sessions() as s:
        row = await s.get(EmailOutbox, outbox_id)
        assert row is not None
        assert row.status == "sent"


async def test_server_down_then_retried(sessions: Any, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    down = Settings(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    outbox_id, _ = await one_notification(sessions, NoQueue())
    now = utcnow()
    assert await tasks.send_email(ctx(sessions, down, now), outbox_id) == "retry"
    async with sessions() as s:
        row = await s.get(EmailOutbox, outbox_id)
        assert row is not None
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.next_attempt_at == now + mail.retry_delay(1)
    up = Settings(smtp_url=f"smtp://127.0.0.1:{port}")
    assert await tasks.retry_emails(ctx(sessions, up, now + timedelta(seconds=5))) == 0  # not due yet
    assert await tasks.retry_emails(ctx(sessions, up, now + timedelta(seconds=31))) == 1
    assert len(inbox.messages) == 1


async def test_gives_up_after_max_attempts(sessions: Any) -> None:
    down = Settings(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    outbox_id, _ = await one_notification(sessions, NoQueue())
    for _ in range(mail.MAX_ATTEMPTS):
        async with sessions() as s, s.begin():
            row = await s.get(EmailOutbox, outbox_id)
            assert row is not None
            row.next_attempt_at = utcnow() - timedelta(seconds=1)
        await tasks.retry_emails(ctx(sessions, down))
    async with sessions() as s:
        status = await s.scalar(select(EmailOutbox.status).where(EmailOutbox.id == outbox_id))
    assert status == "failed"


async def test_without_smtp_the_email_is_logged(sessions: Any, caplog: pytest.LogCaptureFixture) -> None:
    outbox_id, address = await one_notification(sessions, NoQueue())
    with caplog.at_level("INFO", logger="marketplace.notifications.mail"):
        assert await tasks.send_email(ctx(sessions, Settings()), outbox_id) == "logged"
    assert address in caplog.text


def test_parse_smtp_url() -> None:
    t = mail.parse_smtp_url("smtps://me%40x.org:p%3Ass@mail.example.org")
    assert (t.hostname, t.port, t.username, t.password, t.use_tls) == ("mail.example.org", 465, "me@x.org",
                                                                       "p:ss", True)
    assert mail.parse_smtp_url("smtp://localhost:2525").port == 2525
    with pytest.raises(ValueError, match="SMTP_URL"):
        mail.parse_smtp_url("http://nope")


async def test_outbid_over_http_is_emailed_by_the_apps_job(settings: Settings, sessions: Any,
                                                           smtp: tuple[Inbox, int]) -> None:
    """The whole path: a bid over the API → the outbid notification and its outbox row commit → the app's job
    queue sends it → the SMTP server receives it."""
    import asyncio

    from litestar.testing import AsyncTestClient

    from marketplace.app import create_app
    from tests.factories import api_user, fund, make_listing

    inbox, port = smtp
    app = create_app(settings.with_(smtp_url=f"smtp://127.0.0.1:{port}"))
    async with AsyncTestClient(app=app) as client:
        seller, a, b = await api_user(client), await api_user(client), await api_user(client)
        async with sessions() as s, s.begin():
            for uid in (a["id"], b["id"]):
                await fund(s, uid, 1000)
            from marketplace.accounts.models import User

            lid = (await make_listing(s, await s.get(User, seller["id"]), mode="auction", start_price=10)).id
        for who, amount in ((a, 100), (b, 200)):
            r = await client.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": amount},
                                  headers=who["headers"])
            assert r.status_code == 201, r.text
        for _ in range(100):
            if inbox.messages:
                break
            await asyncio.sleep(0.05)
    assert [m["To"] for m in inbox.messages] == [f"{a['username']}@example.com"]
    # the recipient has no language setting: Chinese, from the notification's message id
    subject = str(make_header(decode_header(inbox.messages[0]["Subject"])))
    assert subject.startswith("您在 ")
    assert subject.endswith(" 上的出价已被超过")
    async with sessions() as s:
        assert list(await s.scalars(select(EmailOutbox.status))) == ["sent"]
