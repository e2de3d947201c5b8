"""First impressions: the header links every page the user's role may open, and the language chosen
is remembered per user across pages and logins."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchwall.config.database import make_engine, upgrade
from watchwall.config.settings import DEMO_SITE, Settings
from watchwall.config.site import load_site
from watchwall.dashboard.accounts import Principal, add_user
from watchwall.dashboard.components.nav import nav_items
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.language import remember_language, stored_language

from .conftest import PASSWORD, login_as

REGISTERED = ["/", "/wall", "/centres/<code>", "/incidents", "/recordings", "/reports", "/admin"]
COUNTIES = ["qinzhou", "maiji", "qingshui", "qinan", "gangu", "wushan", "zhangjiachuan"]


@pytest.fixture(scope="module")
def context() -> AppContext:
    return AppContext(settings=Settings(), site=load_site(DEMO_SITE), engine=None)


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (
            Principal("a", "admin"),
            [
                "/wall",
                "/centres/tianshui",
                *(f"/centres/{c}" for c in COUNTIES),
                "/incidents",
                "/recordings",
                "/reports",
                "/admin",
            ],
        ),
        (
            Principal("c", "city_command"),
            ["/wall", "/centres/tianshui", *(f"/centres/{c}" for c in COUNTIES), "/incidents", "/reports"],
        ),
        (
            Principal("s", "county_supervisor", ("maiji",)),
            ["/centres/maiji", "/incidents", "/recordings", "/reports"],  # playback of their own county
        ),
        (Principal("i", "inspector"), ["/incidents", "/recordings", "/reports"]),
    ],
    ids=["admin", "city_command", "county_supervisor", "inspector"],
)
def test_navigation_lists_exactly_the_pages_the_role_may_open(context, principal, expected):
    assert [item.path for item in nav_items(principal, context, REGISTERED)] == expected


def test_a_page_not_registered_is_not_linked(context):
    paths = [item.path for item in nav_items(Principal("a", "admin"), context, ["/wall", "/admin"])]
    assert paths == ["/wall", "/admin"]


def test_the_language_is_stored_with_the_user(tmp_path):
    url = f"sqlite:///{tmp_path / 'users.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        add_user(engine, "sup", PASSWORD, "county_supervisor", ["qinzhou"], {"qinzhou"})
        assert stored_language(engine, "sup") is None
        remember_language(engine, "sup", "en-GB")
        assert stored_language(engine, "sup") == "en"
        remember_language(engine, "sup", "zh-CN")
        assert stored_language(engine, "sup") == "zh-CN"
        assert stored_language(engine, "nobody") is None
    finally:
        engine.dispose()


def _header(page, expect: str) -> str:
    """The header's text once it shows ``expect`` (a client-side navigation redraws it shortly after)."""
    page.wait_for_function(
        "text => { const h = document.querySelector('.wall-header'); return h && h.innerText.includes(text); }",
        arg=expect,
        timeout=60_000,
    )
    return page.inner_text(".wall-header")


@pytest.mark.browser
@pytest.mark.slow
def test_language_follows_the_user_across_pages_and_logins(served_factory, browser, tmp_path: Path):
    folder = tmp_path / "srv"
    folder.mkdir()
    # a configured (not default) database: no demo data to load, the pages need none here
    server = served_factory(
        folder,
        {"WATCHWALL_DATABASE_URL": f"sqlite:///{folder / 'watchwall.db'}"},
        users=("admin", "sup-qinzhou"),
    )
    server.start("--no-ingest")
    try:
        context = login_as(browser, server, "admin", viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        page.goto(f"{server.url}/admin")
        header = _header(page, "录像检索")
        assert (
            "系统管理" in header and "录像检索" in header
        )  # zh-CN by default; admin sees admin + recordings
        page.click("#lang-switch")  # to English: remembered for this user
        page.wait_for_url("**/admin?lang=en")
        _header(page, "Recordings")
        page.click(".page-nav >> text=Recordings")  # header navigation, no ?lang: still English
        page.wait_for_url("**/recordings")
        assert (
            "Admin" in _header(page, "Recordings")
            and page.evaluate("document.querySelector('[lang]').lang") == "en"
        )
        page.goto(f"{server.url}/wall")  # a fresh page load
        _header(page, "Recordings")
        page.click(".nav-centres summary")
        page.click(".nav-menu >> text=Maiji")
        page.wait_for_url("**/centres/maiji")
        page.wait_for_selector("h1.wall-title:has-text('Maiji')", timeout=60_000)  # in English still
        page.click(".logout-button")
        page.wait_for_url("**/login")
        context.close()

        again = login_as(browser, server, "admin", viewport={"width": 1920, "height": 1080})
        page = again.new_page()
        page.goto(f"{server.url}/wall")  # after logging in again: English, as chosen
        _header(page, "Recordings")
        again.close()

        other = login_as(browser, server, "sup-qinzhou", viewport={"width": 1920, "height": 1080})
        page = other.new_page()
        page.goto(f"{server.url}/centres/qinzhou")  # another user keeps the site's default
        assert "秦州区" in _header(page, "退出")
        links = page.eval_on_selector_all(".page-nav a", "links => links.map(a => a.getAttribute('href'))")
        assert links == [
            "/centres/qinzhou",
            "/incidents",
            "/rollcall",
            "/recordings",
            "/reports",
        ]  # a county supervisor: their centre, their incidents, roll-calls, recordings and reports
        other.close()
    finally:
        server.stop()
