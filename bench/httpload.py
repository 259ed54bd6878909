"""A lean HTTP/1.1 keep-alive client for the load generators of the benches (P1, P3, P5).

The benches run the load generator on the same 2 cores as the server and PostgreSQL. httpx spends about a third
of a core driving 16 clients at ~150 req/s (measured with ``top`` during ``bench/bids.py``, docs/performance.md),
CPU the server under test then lacks; pgbench, the P1 anchor, is a C client. This one writes a request with one
``write`` and reads the response by its ``Content-Length`` (or chunks), nothing else: no cookies, redirects,
TLS or connection pools — each :class:`Connection` is one client.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote, urlsplit

_SAFE = "/?&=%:+,;@-._~!$'()*"  # what a request target may hold as is; the rest (spaces, Chinese) is %-encoded


class Response:
    __slots__ = ("body", "headers", "status_code")

    def __init__(self, status_code: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Connection:
    """One keep-alive connection; requests on it run one after another (like one browser tab or API client)."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.head = f"Host: {self.host}:{self.port}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def post(self, path: str, json_body: Any = None) -> Response:
        return await self.request("POST", path, json.dumps(json_body).encode() if json_body is not None else b"")

    async def request(self, method: str, path: str, body: bytes = b"") -> Response:
        for attempt in (1, 2):  # the server may close an idle keep-alive connection: reconnect once
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if method != "GET" else ""
            self.writer.write(f"{method} {quote(path, safe=_SAFE)} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + body)
            try:
                return await self._read(self.reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _read(self, reader: asyncio.StreamReader) -> Response:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            await reader.readuntil(b"\r\n")
            body = b"".join(chunks)
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, headers, body)
