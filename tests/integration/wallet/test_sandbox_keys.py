"""Sandbox keys are made once per data dir, and concurrent first starts agree on them."""

import concurrent.futures
import os
from pathlib import Path

from marketplace.wallet import alipay
from marketplace.wallet.gateway import _write_once, sandbox_key


def test_first_writer_wins_and_everyone_reads_the_winner(tmp_path: Path) -> None:
    target = tmp_path / "k.pem"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: _write_once(target, f"candidate {i}".encode()), range(8)))
    assert len(set(results)) == 1
    assert target.read_bytes() == results[0]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_sandbox_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    first = sandbox_key(tmp_path / "sandbox_keys", "gateway")
    again = sandbox_key(tmp_path / "sandbox_keys", "gateway")
    assert first.private_numbers() == again.private_numbers()
    public = alipay.read_public_key(tmp_path / "sandbox_keys" / "gateway_public.pem")
    assert public.public_numbers() == first.public_key().public_numbers()
    assert (tmp_path / "sandbox_keys" / "gateway_private.pem").stat().st_mode & 0o077 == 0
