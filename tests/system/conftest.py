"""Production mode for real: two server processes and an arq worker on PostgreSQL + Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[Any], log: Path, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"process exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not come up:\n{log.read_text()[-3000:]}")


@dataclass
class Cluster:
    a: str  # base URL of server process A
    b: str  # base URL of server process B
    env: dict[str, str]
    logs: Path


@pytest.fixture
def cluster(db_url: str, redis_url: str, tmp_path: Path) -> Iterator[Cluster]:
    # Auctions as short as 3 s so the worker's close can be watched within the test.
    env = {
        **os.environ,
        "MARKETPLACE_DATABASE_URL": db_url,
        "MARKETPLACE_REDIS_URL": redis_url,
        "MARKETPLACE_DATA_DIR": str(tmp_path / "var"),
        "MARKETPLACE_MEDIA_DIR": str(tmp_path / "var" / "media"),
        "MARKETPLACE_MIN_AUCTION_SECONDS": "3",
        "MARKETPLACE_PAYMENT_GATEWAY": "sandbox",
        "MARKETPLACE_SECRET_KEY": "system-test-secret-0123456789abcdef0123456789",
        "PYTHONPATH": str(ROOT),
    }
    procs: list[subprocess.Popen[Any]] = []
    urls = []
    try:
        for name in ("a", "b"):
            port = _free_port()
            log = tmp_path / f"server-{name}.log"
            env_p = {**env, "MARKETPLACE_BASE_URL": f"http://127.0.0.1:{port}"}
            proc = subprocess.Popen(
                [sys.executable, "-m", "marketplace.cli", "serve", "--no-migrate", "--port", str(port)],
                env=env_p, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
            )
            procs.append(proc)
            _wait_http(f"http://127.0.0.1:{port}/", proc, log)
            urls.append(f"http://127.0.0.1:{port}")
        log = tmp_path / "worker.log"
        procs.append(subprocess.Popen([sys.executable, "-m", "marketplace.cli", "worker"], env=env, cwd=ROOT,
                                      stdout=log.open("w"), stderr=subprocess.STDOUT))
        yield Cluster(a=urls[0], b=urls[1], env=env, logs=tmp_path)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def server(db_url: str, redis_url: str, tmp_path: Path) -> Iterator[str]:
    """One ``marketplace serve`` process in production mode (PostgreSQL + Redis, jobs in-process); its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "MARKETPLACE_DATABASE_URL": db_url,
        "MARKETPLACE_REDIS_URL": redis_url,
        "MARKETPLACE_EMBEDDED_JOBS": "true",
        "MARKETPLACE_PAYMENT_GATEWAY": "sandbox",
        "MARKETPLACE_DATA_DIR": str(tmp_path / "var"),
        "MARKETPLACE_MEDIA_DIR": str(tmp_path / "var" / "media"),
        "MARKETPLACE_BASE_URL": f"http://127.0.0.1:{port}",
        "MARKETPLACE_SECRET_KEY": "system-test-secret-0123456789abcdef0123456789",
        "MARKETPLACE_MIN_AUCTION_SECONDS": "60",
        "MARKETPLACE_BID_RATE_LIMIT": "100000",
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "marketplace.cli", "serve", "--no-migrate", "--port", str(port)],
        env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/", proc, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
