"""A requests session logged in through WatchWall's real login form (its CSRF token, its Origin check)."""

from __future__ import annotations

import re

import requests

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def form_login(url: str, username: str, password: str, *, expect_success: bool = False) -> requests.Session:
    """``url``'s session of ``username``; ``session.last_login_response`` is the form's answer.

    With ``expect_success`` a refused login raises instead of returning a session without a cookie.
    """
    session = requests.Session()
    page = session.get(f"{url}/login", timeout=10)
    token = CSRF_FIELD.search(page.text).group(1)
    response = session.post(
        f"{url}/login",
        data={"csrf": token, "username": username, "password": password},
        headers={"Origin": url},
        allow_redirects=False,
        timeout=10,
    )
    if expect_success and response.status_code not in (302, 303):
        raise AssertionError(f"login of {username} refused ({response.status_code}): {response.text[:300]}")
    session.last_login_response = response
    return session


def cookie_header(session: requests.Session) -> str:
    """The session's cookies as one ``Cookie`` header (for a socket.io or WebSocket client)."""
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())
