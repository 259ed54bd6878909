"""``GET /ws/me``: the user's own live channel ``user:{id}`` (new notifications and the unread count).

Authenticated by the session cookie (pages) or ``?token=`` with an API bearer token (API clients: browsers
cannot set headers on a websocket). On connect it sends ``{"type": "unread", "unread": N}`` read fresh from the
database, then relays every message of the channel: ``{"type": "notification", id, kind, title, url, unread}``
and ``{"type": "unread", unread}`` after marking read. The socket only pushes.
"""

from __future__ import annotations

import contextlib
from typing import Any

from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin

from marketplace.accounts.services import AccountService
from marketplace.auctions.live import forget_empty_channel
from marketplace.identity import CurrentUser
from marketplace.notifications.services import unread_count, user_channel
from marketplace.web.auth import current_user


def _plugin(socket: WebSocket[Any, Any, Any]) -> ChannelsPlugin:
    plugin = socket.app.state.get("channels")
    return plugin if isinstance(plugin, ChannelsPlugin) else socket.app.plugins.get(ChannelsPlugin)


async def _user(socket: WebSocket[Any, Any, Any]) -> CurrentUser | None:
    user = current_user(socket)
    if user is not None:
        return user
    token = socket.query_params.get("token")
    if not token:
        return None
    async with socket.app.state.session_factory() as db:
        row = await AccountService(db).user_for_token(token)
        return CurrentUser.of(row) if row else None


@websocket("/ws/me")
async def my_channel(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    user = await _user(socket)
    if user is None:
        await socket.send_json({"type": "error", "detail": "Authentication required."})
        await socket.close(code=4401)
        return
    plugin = _plugin(socket)
    channel = user_channel(user.id)
    try:
        # Subscribe before reading the count: a notification committed in between arrives as a message with a
        # count at least as new as the snapshot.
        async with plugin.start_subscription([channel]) as subscriber:
            async with socket.app.state.session_factory() as session:
                unread = await unread_count(session, user.id)
            await socket.send_json({"type": "unread", "unread": unread})

            async def relay(payload: bytes) -> None:
                with contextlib.suppress(Exception):  # the peer may be gone; the receive loop notices
                    await socket.send_text(payload.decode() if isinstance(payload, bytes) else payload)

            async with subscriber.run_in_background(relay):
                while (await socket.receive())["type"] != "websocket.disconnect":
                    continue
    finally:
        forget_empty_channel(plugin, channel)


ROUTES = [my_channel]
