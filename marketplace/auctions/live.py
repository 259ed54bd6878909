"""Live bids: ``GET /ws/listings/{id}`` pushes a snapshot on connect, then every message of ``listing:{id}``.

The socket only pushes (docs/architecture.md: bids go over HTTP POST). It reads the listing once for the snapshot and
never writes. Messages come from the Channels plugin: the memory backend in embedded mode, Redis pub/sub with
several processes, so a bid accepted by any process (or a close by the worker) reaches every watcher. Redis
pub/sub keeps no history, which is why the snapshot is read fresh from the database on connect.
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.auctions.models import Bid
from marketplace.auctions.schemas import channel_name
from marketplace.db import iso
from marketplace.errors import NotFound
from marketplace.listings.models import Listing
from marketplace.listings.services import ListingService, ensure_visible
from marketplace.web.auth import current_user

log = logging.getLogger(__name__)


async def listing_snapshot(session: AsyncSession, listing_id: int, viewer_id: int | None,
                           settings: Any = None, *, is_admin: bool = False) -> dict[str, Any] | None:
    """The listing object of docs/api.md, from the listings' one serializer, plus the auction's row version;
    None when the viewer may not see the listing (the one visibility rule, docs/rules.md §10). No user ids:
    ``you_lead`` says whether the viewer leads (docs/api.md "Live updates")."""
    try:
        listing = await ensure_visible(session, await session.get(Listing, listing_id), viewer_id, is_admin=is_admin)
    except NotFound:
        return None
    data: dict[str, Any] = msgspec.to_builtins(await ListingService(session, settings).out(listing, viewer_id))
    if listing.mode == "auction":
        data["version"] = listing.version
    return data


def personalise(payload: bytes | str, viewer_id: int | None) -> str:
    """A channel message as one watcher may see it: the leader's user id (carried on the internal channel so
    every process can do this) becomes ``you_lead`` for this watcher and is never sent (issue 11 L2).

    A message reaches every watcher of the auction with the same payload, and there are only two views of it (the
    leader's and everyone else's): :func:`_views` decodes and encodes it once per payload, not once per socket
    (issue 17 P2)."""
    leader_id, others, leaders = _views(payload)
    return leaders if viewer_id is not None and leader_id == viewer_id else others


@lru_cache(maxsize=256)
def _views(payload: bytes | str) -> tuple[int | None, str, str]:
    """(leader id, the text for everyone else, the text for the leader) of one channel message."""
    text = payload.decode() if isinstance(payload, bytes) else payload
    if '"leader_id"' not in text:
        return None, text, text
    message = json.loads(text)
    leader_id = message.pop("leader_id", None)
    message["you_lead"] = False
    others = json.dumps(message, separators=(",", ":"))
    message["you_lead"] = True
    return leader_id, others, json.dumps(message, separators=(",", ":"))


def _plugin(socket: WebSocket[Any, Any, Any]) -> ChannelsPlugin:
    plugin = socket.app.state.get("channels")
    return plugin if isinstance(plugin, ChannelsPlugin) else socket.app.plugins.get(ChannelsPlugin)


def forget_empty_channel(plugin: ChannelsPlugin, channel: str) -> None:
    """Work around litestar #4867: with arbitrary channels allowed, ``unsubscribe`` leaves ``channel: set()`` in
    the plugin's table forever, one entry per auction ever watched. No await between the check and the pop, so a
    watcher joining concurrently cannot be dropped."""
    table: dict[str, set[Any]] = plugin._channels  # private: no public API for this (see the issue)
    if not table.get(channel, True):
        table.pop(channel, None)


def subscriber_count(plugin: ChannelsPlugin, channel: str) -> int:
    """Watchers of ``channel`` in this process (tests and metrics)."""
    return len(plugin._channels.get(channel, ()))


@websocket("/ws/listings/{listing_id:int}")
async def watch_listing(socket: WebSocket[Any, Any, Any], listing_id: FromPath[int]) -> None:
    await socket.accept()
    plugin = _plugin(socket)
    channel = channel_name(listing_id)
    viewer = current_user(socket)
    try:
        # Subscribe before reading the snapshot: a bid committed in between arrives after the snapshot as a
        # message, and the page ignores messages whose version is not newer than what it shows.
        async with plugin.start_subscription([channel]) as subscriber:
            async with socket.app.state.session_factory() as session:
                snapshot = await listing_snapshot(session, listing_id, viewer.id if viewer else None,
                                                  socket.app.state.settings,
                                                  is_admin=bool(viewer and viewer.is_admin))
            if snapshot is None:
                await socket.send_json({"type": "error", "detail": "Listing not found."})
                await socket.close(code=4404)
                return
            if viewer is not None and snapshot.get("mode") == "auction":
                async with socket.app.state.session_factory() as session:
                    snapshot["you_bid"] = await session.scalar(
                        select(Bid.id).where(Bid.listing_id == listing_id, Bid.bidder_id == viewer.id).limit(1)
                    ) is not None
            await socket.send_json({"type": "snapshot", **snapshot, "server_time": iso(datetime.now(UTC))})

            async def relay(payload: bytes) -> None:
                with contextlib.suppress(Exception):  # the peer may be gone; the receive loop notices
                    await socket.send_text(personalise(payload, viewer.id if viewer else None))

            async with subscriber.run_in_background(relay):
                while (await socket.receive())["type"] != "websocket.disconnect":
                    continue
    finally:
        forget_empty_channel(plugin, channel)


ROUTES = [watch_listing]
