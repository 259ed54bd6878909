"""The account pages through their forms: register, log in, log out, CSRF, login throttling, profiles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from marketplace.accounts.models import User
from tests.factories import PASSWORD, csrf_token, db_user, html_login, html_post


async def user_count(sessions: Any) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(User)) or 0)


def logged_in_as(page: str, username: str) -> bool:
    return f'href="/users/{username}"' in page and 'action="/logout"' in page


async def test_register_page_has_a_csrf_protected_form(client: Any) -> None:
    r = await client.get("/register")
    assert r.status_code == 200
    assert 'action="/register"' in r.text
    assert 'name="_csrf_token"' in r.text
    assert client.cookies.get("csrftoken")


async def test_register_logs_in_and_logout_logs_out(client: Any, sessions: Any) -> None:
    await csrf_token(client, "/register")
    r = await html_post(client, "/register",
                        {"username": "html_alice", "email": "alice@example.com", "password": PASSWORD})
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    home = (await client.get("/")).text
    assert logged_in_as(home, "html_alice")
    assert "Welcome, html_alice" in home
    r = await html_post(client, "/logout", {})
    assert r.status_code == 303
    home = (await client.get("/")).text
    assert not logged_in_as(home, "html_alice")
    assert 'href="/login"' in home
    # the same session cookie no longer authenticates anything
    assert (await client.get("/admin/", follow_redirects=False)).status_code == 302


async def test_register_invalid_input_shows_the_error_and_creates_nothing(client: Any, sessions: Any) -> None:
    cases = [
        ({"username": "ab", "email": "a@example.com", "password": PASSWORD}, "username must be 3–32"),
        ({"username": "good_name", "email": "nope", "password": PASSWORD}, "valid email"),
        ({"username": "good_name", "email": "a@example.com", "password": ""}, "at least 8"),
        ({"username": "good_name", "email": "a@example.com", "password": "short"}, "at least 8"),
    ]
    for data, message in cases:
        r = await html_post(client, "/register", data)
        assert r.status_code == 400, data
        assert message in r.text
        assert PASSWORD not in r.text  # the password is never echoed back
    assert await user_count(sessions) == 0


async def test_register_taken_username_is_409(client: Any, sessions: Any) -> None:
    await db_user(sessions, "taken_name")
    r = await html_post(client, "/register", {"username": "TAKEN_NAME", "email": "x@example.com",
                                              "password": PASSWORD})
    assert r.status_code == 409
    assert "taken" in r.text
    assert await user_count(sessions) == 1


async def test_login_and_wrong_password(client: Any, sessions: Any) -> None:
    await db_user(sessions, "html_bob")
    r = await html_post(client, "/login", {"username": "html_bob", "password": "wrong-password"})
    assert r.status_code == 401
    assert "Wrong username or password" in r.text
    r = await html_post(client, "/login", {"username": "html_bob", "password": PASSWORD, "next": "/users/html_bob"})
    assert r.status_code == 303
    assert r.headers["location"] == "/users/html_bob"
    assert logged_in_as((await client.get("/")).text, "html_bob")


async def test_login_never_redirects_off_site(client: Any, sessions: Any) -> None:
    await db_user(sessions, "html_carol")
    r = await html_post(client, "/login", {"username": "html_carol", "password": PASSWORD,
                                           "next": "//evil.example.com/"})
    assert r.status_code == 303
    assert r.headers["location"] == "/"


async def test_forms_without_csrf_token_are_403_and_change_nothing(client: Any, sessions: Any) -> None:
    await csrf_token(client, "/register")
    r = await client.post("/register", data={"username": "no_token", "email": "n@example.com",
                                             "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert await user_count(sessions) == 0
    await db_user(sessions, "html_dave")
    r = await client.post("/login", data={"username": "html_dave", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert not logged_in_as((await client.get("/")).text, "html_dave")
    # logging out is a state change too: without the token the session survives
    await html_login(client, "html_dave")
    r = await client.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert logged_in_as((await client.get("/")).text, "html_dave")


async def test_login_rate_limit_over_the_form(client: Any, sessions: Any) -> None:
    await db_user(sessions, "html_erin")
    for _ in range(10):
        r = await html_post(client, "/login", {"username": "html_erin", "password": "wrong-password"})
        assert r.status_code == 401
    r = await html_post(client, "/login", {"username": "html_erin", "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert "Too many failed logins" in r.text
    assert not logged_in_as((await client.get("/")).text, "html_erin")


async def test_banned_user_cannot_log_in(client: Any, sessions: Any) -> None:
    user = await db_user(sessions, "html_frank")
    async with sessions() as s, s.begin():
        (await s.get(User, user.id)).is_banned = True  # type: ignore[union-attr]
    r = await html_post(client, "/login", {"username": "html_frank", "password": PASSWORD})
    assert r.status_code == 403
    assert "suspended" in r.text


async def test_profile_page(client: Any, sessions: Any) -> None:
    await db_user(sessions, "html_gina")
    r = await client.get("/users/html_gina")
    assert r.status_code == 200
    assert "<h1>html_gina" in r.text
    assert "Member since" in r.text
    r = await client.get("/users/nobody_here")
    assert r.status_code == 404


def _session_cookie(client: Any) -> str | None:
    values = [c.value for c in client.cookies.jar if c.name == "session"]
    return values[-1] if values else None


def _plant_session(client: Any, value: str) -> None:
    for c in list(client.cookies.jar):
        if c.name == "session":
            client.cookies.jar.clear(c.domain, c.path, c.name)
    client.cookies.set("session", value, domain="testserver.local")


async def test_logging_in_issues_a_new_session_id(client: Any, sessions: Any) -> None:
    """No session fixation: a session id planted in the browser before log-in is not the logged-in session."""
    user = await db_user(sessions)
    await client.get("/login")
    planted = "attacker-chosen-session-id-0123456789"
    _plant_session(client, planted)
    r = await html_post(client, "/login", {"username": user.username, "password": PASSWORD})
    assert r.status_code == 303
    issued = _session_cookie(client)
    assert issued
    assert issued != planted
    _plant_session(client, issued)
    assert (await client.get("/wallet", follow_redirects=False)).status_code == 200
    # the planted id carries no user
    _plant_session(client, planted)
    assert (await client.get("/wallet", follow_redirects=False)).status_code == 302
