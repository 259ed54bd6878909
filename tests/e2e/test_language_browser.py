"""The header's language switch in Chromium at 1280 px (docs/architecture.md "Languages"): a Chinese browser sees
Chinese, EN switches to English and stays there across pages, 中文 switches back; a signed-in user's switch is
saved as their setting."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import LiveServer, ui_login


async def test_language_switch_in_the_header(live_server: LiveServer, browser: Any) -> None:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await ctx.new_page()
    page.set_default_timeout(10_000)
    await page.goto(live_server.url("/login"))
    assert await page.get_attribute("html", "lang") == "zh-CN"
    assert await page.inner_text("main h1") == "登录"
    assert await page.inner_text(".lang-switch [aria-current]") == "中文"

    await page.click(".lang-switch a[lang=en]")
    await page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.url.endswith("/login")  # back on the same page
    assert await page.inner_text("main h1") == "Log in"
    await page.goto(live_server.url("/register"))  # the choice sticks (the lang cookie)
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.inner_text(".lang-switch [aria-current]") == "EN"

    await page.click(".lang-switch a[lang=zh-CN]")
    await page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert "/register" in page.url
    assert await page.inner_text("main h1") == "创建您的账号"
    # the switch fits the header at 1280 px: no horizontal scrolling
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await ctx.close()


async def test_a_signed_in_users_switch_is_their_setting(live_server: LiveServer, browser: Any) -> None:
    user = live_server.register()
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await ctx.new_page()
    page.set_default_timeout(10_000)
    await ui_login(page, live_server, user["username"])
    await page.click(".lang-switch button[value=en]")
    await page.wait_for_function("document.documentElement.lang === 'en'")
    await ctx.clear_cookies()  # a new browser: only the saved setting remembers English
    await ui_login(page, live_server, user["username"])
    await page.goto(live_server.url("/me/notification-settings"))
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.locator("#language-setting select").input_value() == "en"
    await page.select_option("#language-setting select", "zh_CN")
    await page.click("#language-setting button[type=submit]")
    await page.wait_for_url(re.compile(r"/me/notification-settings"))
    await page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert "语言已保存。" in await page.inner_text(".flashes")
    await ctx.close()
