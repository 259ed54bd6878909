"""The client's address, believing ``X-Forwarded-For`` only from our own reverse proxies.

``MARKETPLACE_TRUSTED_PROXIES`` lists addresses or CIDR networks (comma-separated). A request from any other peer
is judged by its peer address alone: anyone can send an ``X-Forwarded-For`` header, so trusting it from everyone
would let one client pose as a new address per request (and dodge the per-IP login limit). Behind trusted
proxies the header is read from the right, skipping our own proxies: the first address that is not one of them is
the client (the ones further left were written by the client itself).
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from litestar.connection import ASGIConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=16)
def parse_trusted(spec: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` → networks; a malformed entry raises ``ValueError`` naming it."""
    networks: list[Network] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"MARKETPLACE_TRUSTED_PROXIES: {item!r} is not an address or network") from exc
    return tuple(networks)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(peer: str, forwarded_for: str | None, trusted_proxies: str) -> str:
    networks = parse_trusted(trusted_proxies)
    if not networks or not forwarded_for or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage in the header: fall back to the proxy that sent it
    return hops[0] if hops else peer


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    peer = connection.client.host if connection.client else "unknown"
    trusted = connection.app.state.settings.trusted_proxies
    return client_address(peer, connection.headers.get("x-forwarded-for"), trusted)
