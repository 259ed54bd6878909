"""Top up 100 coins in a real Chromium through the sandbox payment page, against a real uvicorn server.

The server fixture lives in this module on purpose (a shared ``live_server`` fixture is being added to
tests/e2e/conftest.py separately): SQLite database, data and media dirs in a temp dir, a free port.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def wallet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed")
    tmp = tmp_path_factory.mktemp("wallet_e2e")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MARKETPLACE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/e2e.db",
        "MARKETPLACE_DATA_DIR": str(tmp / "var"),
        "MARKETPLACE_MEDIA_DIR": str(tmp / "var" / "media"),
        "MARKETPLACE_BASE_URL": base,
        "MARKETPLACE_PAYMENT_GATEWAY": "sandbox",
        "MARKETPLACE_SECRET_KEY": "e2e-secret-key-0123456789abcdef0123456789abcdef",
    }
    env.pop("MARKETPLACE_REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "marketplace.cli", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "marketplace.app:create_app_from_env", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + (tmp / "server.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        server_log = (tmp / "server.log").read_text(errors="replace")
        if "Traceback" in server_log:  # pytest's temp dirs are pruned: show server errors while we still can
            print(server_log, file=sys.stderr)


async def test_topup_100_coins_through_the_sandbox_gateway(wallet_server: str) -> None:
    base = wallet_server
    async with httpx.AsyncClient(base_url=base) as api:
        r = await api.post("/api/v1/auth/register",
                           json={"username": "payer_e2e", "email": "payer_e2e@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            page.set_default_timeout(15_000)
            await page.goto(f"{base}/login?next=/wallet")
            await page.fill("input[name=username]", "payer_e2e")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("form[action='/login'] button[type=submit]")
            await page.wait_for_url(f"{base}/wallet")
            await expect(page.locator("#wallet-available")).to_have_attribute("data-coins", "0")

            await page.fill("#topup-form input[name=coins]", "100")
            await page.click("#topup-form button[type=submit]")
            await page.wait_for_url("**/payments/sandbox/pay?**")
            await expect(page.locator(".sandbox-amount")).to_have_text("¥10.00")

            await page.click("#sandbox-pay")
            await page.wait_for_url("**/wallet?topup=*")
            await expect(page.locator("#wallet-available")).to_have_attribute("data-coins", "100")
            await expect(page.locator(".topup-return")).to_contain_text("paid")
            await expect(page.locator("table.wallet-entries")).to_contain_text("Top-up #")
        finally:
            await browser.close()
