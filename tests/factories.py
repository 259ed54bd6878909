"""Test data in one place: users, tokens, categories, coins. Everything goes through the real services."""

from __future__ import annotations

import itertools
import re
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.accounts.services import AccountService
from marketplace.categories.models import Category
from marketplace.wallet import ledger
from marketplace.wallet.models import PLATFORM_KINDS

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def unique(prefix: str = "user") -> str:
    return f"{prefix}{next(_seq)}"


async def make_user(session: AsyncSession, username: str | None = None, *, is_admin: bool = False,
                    coins: int = 0) -> User:
    username = username or unique()
    user = await AccountService(session).register(username, f"{username}@example.com", PASSWORD, is_admin=is_admin)
    if coins:
        await fund(session, user.id, coins)
    return user


async def fund(session: AsyncSession, user_id: int, coins: int) -> None:
    """Give a user coins the way an admin adjustment does: from the platform's adjustments account."""
    await ledger.post(
        session,
        kind="adjustment",
        legs=[ledger.Leg(ledger.platform("adjustments"), -coins), ledger.Leg(ledger.available(user_id), coins)],
        ref_type="user",
        ref_id=user_id,
        memo="test funding",
    )


async def make_category(session: AsyncSession, name: str | None = None, parent: Category | None = None,
                        *, hidden: bool = False) -> Category:
    name = name or unique("Category ")
    cat = Category(name=name, slug=re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + f"-{next(_seq)}",
                   parent_id=parent.id if parent else None, hidden=hidden)
    session.add(cat)
    await session.flush()
    return cat


# --- over HTTP ---------------------------------------------------------------------------------------------------


async def api_user(client: AsyncTestClient[Any], username: str | None = None) -> dict[str, Any]:
    """Register through the API and log in; returns ``{"id", "username", "headers"}``."""
    username = username or unique()
    r = await client.post("/api/v1/auth/register",
                          json={"username": username, "email": f"{username}@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    return {"id": body["user"]["id"], "username": username, "headers": {"Authorization": f"Bearer {body['token']}"}}


async def api_login(client: AsyncTestClient[Any], username: str, password: str = PASSWORD) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def csrf_token(client: AsyncTestClient[Any], page: str = "/login") -> str:
    """Load a page so the CSRF cookie is set, and return the token a form would carry."""
    await client.get(page)
    token = client.cookies.get("csrftoken")
    assert token, "no CSRF cookie set"
    return token


async def html_post(client: AsyncTestClient[Any], path: str, data: dict[str, Any], **kw: Any) -> Any:
    """POST a form the way a browser does: with the CSRF token field."""
    token = client.cookies.get("csrftoken") or await csrf_token(client)
    return await client.post(path, data={**data, "_csrf_token": token}, follow_redirects=False, **kw)


async def html_login(client: AsyncTestClient[Any], username: str, password: str = PASSWORD) -> None:
    r = await html_post(client, "/login", {"username": username, "password": password})
    assert r.status_code == 303, r.text


async def make_listing(session: AsyncSession, seller: User, category: Category | None = None, *,
                       mode: str = "fixed", title: str | None = None, price: int = 100, quantity: int = 1,
                       start_price: int = 10, reserve_price: int | None = None, buy_now_price: int | None = None,
                       duration_seconds: int = 3600, auto_extend: bool = True, ends_at: Any = None,
                       description: str = "") -> Any:
    """An active listing written straight to the table (no fee, no API): for tests of later stages."""
    from datetime import timedelta

    from marketplace.db import utcnow
    from marketplace.listings.models import Listing

    category = category or await make_category(session)
    now = utcnow()
    listing = Listing(seller_id=seller.id, category_id=category.id, title=title or unique("Item "),
                      description=description, mode=mode, status="active", created_at=now)
    if mode == "fixed":
        listing.price = price
        listing.current_price = price
        listing.quantity = listing.quantity_available = quantity
    else:
        listing.start_price = listing.current_price = start_price
        listing.reserve_price = reserve_price
        listing.buy_now_price = buy_now_price
        listing.duration_seconds = duration_seconds
        listing.auto_extend = auto_extend
        listing.ends_at = ends_at or now + timedelta(seconds=duration_seconds)
        listing.quantity = listing.quantity_available = 1
    session.add(listing)
    await session.flush()
    return listing


async def make_order(session: AsyncSession, *, seller: User | None = None, buyer: User | None = None,
                     price: int = 100, quantity: int = 1, stock: int | None = None, mode: str = "fixed") -> Any:
    """A paid order the way a purchase makes one: listing, funded buyer, stock decremented, coins in escrow."""
    from marketplace.orders.services import open_order

    seller = seller or await quick_user(session)
    if buyer is None:
        buyer = await quick_user(session)
        await fund(session, buyer.id, price * quantity)
    if mode == "fixed":
        listing = await make_listing(session, seller, price=price, quantity=stock or quantity)
    else:
        listing = await make_listing(session, seller, mode="auction", start_price=price)
    order = await open_order(session, listing=listing, buyer_id=buyer.id, quantity=quantity, unit_price=price)
    listing.quantity_available -= quantity
    if listing.quantity_available == 0:
        listing.status = "sold"
    await session.flush()
    return order


async def quick_user(session: AsyncSession) -> User:
    """A user row with a wallet but no usable password (no argon2 hashing): for tests that need many parties and
    never log them in."""
    username = unique("quick")
    user = User(username=username, email=f"{username}@example.com", password_hash="!unusable")
    session.add(user)
    await session.flush()
    await ledger.ensure_accounts(session, [ledger.available(user.id), ledger.held(user.id)])
    return user


async def ledger_problems(session: AsyncSession) -> list[str]:
    """The ledger audit in SQL (docs/rules.md §8): each transaction sums to 0, each running balance equals its entries,
    all balances sum to 0. Empty when balanced."""
    from sqlalchemy import text

    problems = [f"transaction {t} sums to {s}" for t, s in (await session.execute(text(
        "SELECT transaction_id, SUM(amount) FROM ledger_entries GROUP BY transaction_id HAVING SUM(amount) <> 0"
    ))).all()]
    problems += [f"account {k} balance {b} != entries {s}" for k, b, s in (await session.execute(text(
        "SELECT a.key, a.balance, COALESCE(SUM(e.amount), 0) FROM ledger_accounts a "
        "LEFT JOIN ledger_entries e ON e.account_id = a.id WHERE a.kind NOT IN ("
        + ", ".join(f"'{k}'" for k in PLATFORM_KINDS)
        + ") GROUP BY a.id, a.key, a.balance HAVING a.balance <> COALESCE(SUM(e.amount), 0)"
    ))).all()]
    total = await session.scalar(text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entries"))
    if total:
        problems.append(f"all entries sum to {total}")
    negative = await session.scalar(text("SELECT COUNT(*) FROM ledger_accounts WHERE balance < 0"))
    if negative:
        problems.append(f"{negative} accounts below zero")
    return problems
# --- admins and categories (categories helper) -------------------------------------------------------------------


async def db_user(sessions: Any, username: str | None = None, *, is_admin: bool = False) -> User:
    """A user committed in its own transaction, for tests that then act over HTTP."""
    async with sessions() as s, s.begin():
        return await make_user(s, username, is_admin=is_admin)


async def api_admin(client: AsyncTestClient[Any], sessions: Any, username: str | None = None) -> dict[str, Any]:
    """An administrator with a bearer token: ``{"id", "username", "headers"}``."""
    user = await db_user(sessions, username or unique("admin"), is_admin=True)
    return {"id": user.id, "username": user.username, "headers": await api_login(client, user.username)}


async def api_category(client: AsyncTestClient[Any], admin: dict[str, Any], name: str,
                       parent_id: int | None = None) -> dict[str, Any]:
    r = await client.post("/api/v1/admin/categories", json={"name": name, "parent_id": parent_id},
                          headers=admin["headers"])
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]
