"""Server-side sessions whose id changes when the user logs in (no session fixation), stored only when needed.

Litestar's server-side backend keeps the id the browser presented. A session planted before log-in would then
carry the logged-in user. Views that change who is logged in set ``ROTATE_KEY`` in the new session data; the
backend then stores it under a fresh random id, deletes the old one and sends the new cookie.

Litestar also writes a new, empty session (and sends its cookie) for every request without one: each anonymous
page view cost a 14-day key in the store. Here an empty session is never stored: nothing is written and no cookie
sent until something puts data in it (log-in, a flash message); an emptied session is deleted.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

ROTATE_KEY = "_rotate_session_id"


class RotatingSessionBackend(ServerSideSessionBackend):
    async def store_in_message(self, scope_session: ScopeSession, message: Message,
                               connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        if not scope_session or not isinstance(scope_session, dict):  # Empty (cleared) or {}: nothing to keep
            presented = connection.cookies.get(self.config.key)
            if presented and presented != "null":  # forget the stored one, expire the cookie
                await super().store_in_message(Empty, message, connection)
            return
        if not scope_session.pop(ROTATE_KEY, False):
            await super().store_in_message(scope_session, message, connection)
            return
        store = self.config.get_store_from_app(connection.scope["app"])
        old_id = connection.cookies.get(self.config.key)
        if old_id and old_id != "null":
            await self.delete(old_id, store=store)
        new_id = self.generate_session_id()
        await self.set(session_id=new_id, data=self.serialize_data(scope_session, connection.scope), store=store)
        cookie_params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        MutableScopeHeaders.from_message(message).add(
            "Set-Cookie", Cookie(value=new_id, key=self.config.key, **cookie_params).to_header(header="")
        )


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def logged_in_session(user_id: int, key: str) -> dict[str, Any]:
    """The session data of a fresh log-in: the user, and the instruction to issue a new session id."""
    return {key: user_id, ROTATE_KEY: True}
