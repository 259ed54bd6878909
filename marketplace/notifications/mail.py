"""E-mail delivery: the outbox row's text, the SMTP client (aiosmtplib), and sending one outbox row.

``MARKETPLACE_SMTP_URL``: ``smtp://[user:password@]host[:port]`` (plain, or STARTTLS when the server offers
it), ``smtps://…`` (implicit TLS, port 465 by default). Unset → the e-mail is logged and marked ``logged``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.i18n import _
from marketplace.notifications.models import EmailOutbox
from marketplace.settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def email_text(title: str, body: str, url: str) -> str:
    """The plain-text body; ``url`` is site-relative and completed with the base URL when sent."""
    lines = [title, ""]
    if body:
        lines += [body, ""]
    if url:
        lines.append("{base_url}" + url)
    lines += ["", "—", _("Coin Market. Choose which e-mails you get: %(url)s",
                         url="{base_url}/me/notification-settings")]
    return "\n".join(lines)


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the ``attempts``-th failure: 30 s, 1 min, 2 min, 4 min."""
    return timedelta(seconds=30 * 2 ** max(attempts - 1, 0))


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("MARKETPLACE_SMTP_URL must look like smtp://host:port or smtps://user:pass@host")
    tls = parts.scheme == "smtps"
    return SmtpTarget(parts.hostname, parts.port or (465 if tls else 25),
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, tls)


def build_message(row: EmailOutbox, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = f"<outbox-{row.id}@coin-market>"
    message.set_content(row.body.replace("{base_url}", settings.base_url.rstrip("/")))
    return message


async def deliver(message: EmailMessage, settings: Settings) -> None:
    """Send one message through SMTP, or log it when no server is configured."""
    if not settings.smtp_url:
        log.info("e-mail (no MARKETPLACE_SMTP_URL, not sent) to %s: %s", message["To"], message["Subject"])
        return
    import aiosmtplib

    target = parse_smtp_url(settings.smtp_url)
    await aiosmtplib.send(message, hostname=target.hostname, port=target.port, username=target.username,
                          password=target.password, use_tls=target.use_tls, timeout=30)


async def send_outbox_row(sessions: async_sessionmaker[AsyncSession], settings: Settings, outbox_id: int,
                          now: datetime) -> str:
    """Send one pending e-mail at most once at a time: the row is locked (SKIP LOCKED: another worker sending it
    wins) and marked in the same transaction; a failure counts an attempt and sets the next one."""
    async with sessions() as session, session.begin():
        row = await session.scalar(select(EmailOutbox).where(EmailOutbox.id == outbox_id)
                                   .with_for_update(skip_locked=True).execution_options(populate_existing=True))
        if row is None or row.status != "pending":
            return "noop"
        message = build_message(row, settings)
        try:
            await deliver(message, settings)
        except Exception as exc:  # any SMTP or network failure: try again later
            row.attempts += 1
            row.last_error = repr(exc)[:500]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                log.error("e-mail %s failed %s times, giving up: %r", row.id, row.attempts, exc)
            else:
                row.next_attempt_at = now + retry_delay(row.attempts)
                log.warning("e-mail %s failed (attempt %s): %r", row.id, row.attempts, exc)
            return "retry"
        row.attempts += 1
        row.status = "sent" if settings.smtp_url else "logged"
        row.sent_at = now
        return row.status
