"""A real ``watchwall serve`` process on a free loopback port, and Debian's Chromium."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support.form_login import form_login

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError as exc:
            last_error = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s: {last_error}")


@dataclass
class ServedWatchWall:
    env: dict[str, str]
    port: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *extra: str, timeout: float = 120) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watchwall.roles.cli", "serve", "--port", str(self.port), *extra],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            wait_http(f"{self.url}/login", timeout)
        except TimeoutError:
            self.stop()
            raise AssertionError(
                f"watchwall serve did not start:\n{self.log_path.read_text()[-3000:]}"
            ) from None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        self.process = None

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "watchwall.roles.cli", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def metrics(self) -> dict:
        result = self.cli("metrics", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


def watchwall_env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHWALL_")}
    env["WATCHWALL_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


PASSWORD = "correct horse battery"
USERS = {
    "command": ("city_command", []),
    "sup-qinzhou": ("county_supervisor", ["qinzhou"]),
    "sup-maiji": ("county_supervisor", ["maiji"]),
    "sup-qingshui": ("county_supervisor", ["qingshui"]),  # locked out by the rate-limit test
    "inspector": ("inspector", []),
    "admin": ("admin", []),
}


def add_users(server: ServedWatchWall, names=tuple(USERS)) -> None:
    """The test accounts, written straight into the served database (same code as `watchwall user add`)."""
    from watchwall.config.database import make_engine, upgrade
    from watchwall.config.site import load_site
    from watchwall.dashboard.accounts import add_user

    data_dir = Path(server.env["WATCHWALL_DATA_DIR"])
    url = f"sqlite:///{data_dir / 'watchwall.db'}"
    upgrade(url)
    engine = make_engine(url)
    site_path = server.env.get("WATCHWALL_SITE")
    known = {centre.code for centre in load_site(site_path).counties} if site_path else None
    try:
        for name in names:
            role, counties = USERS[name]
            add_user(
                engine,
                name,
                PASSWORD,
                role,
                counties,
                known if known is not None else set(counties) | _demo_counties(),
            )
    finally:
        engine.dispose()


def _demo_counties() -> set[str]:
    from watchwall.config.settings import DEMO_SITE
    from watchwall.config.site import load_site

    return {centre.code for centre in load_site(DEMO_SITE).counties}


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory):
    """``demo_database(data_dir)`` puts the demo-data database into a served instance's data dir.

    The database is filled once per site day by ``ensure_demo_data`` (the code ``watchwall serve``
    runs on its first start) and copied into each data dir, so a serve on the default database
    finds its case data instead of generating it again (some 25 s of CPU each). Loading the demo
    data at a first start stays tested by the session's ``served`` instance, which is not given a
    copy, and by tests/metrics/test_metrics_demo_data.py."""
    from watchwall.config.database import make_engine
    from watchwall.config.settings import Settings
    from watchwall.metrics.demo_data import ensure_demo_data

    made: dict = {}

    def copy_into(data_dir: Path) -> None:
        zone = Settings.model_fields["timezone"].default  # the served instances' (no WATCHWALL_ env)
        day = datetime.now(ZoneInfo(zone)).date()  # the demo data reach up to "now" of their day
        if day not in made:
            folder = tmp_path_factory.mktemp("demo-database")
            settings = Settings(data_dir=folder, database_url=None, timezone=zone)
            settings.ensure_data_dir()
            engine = make_engine(settings.effective_database_url)
            try:
                assert ensure_demo_data(engine, settings) is True
            finally:
                engine.dispose()
            made[day] = settings.data_dir / "watchwall.db"
        data_dir.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(made[day]) as source, sqlite3.connect(data_dir / "watchwall.db") as copy:
            source.backup(copy)
        source.close()
        copy.close()

    return copy_into


@pytest.fixture(scope="module")
def served_factory(demo_database):
    """``served_factory(folder, extra_env)``: a not yet started serve with the test users, on its own data dir.

    On the default database the data dir starts with a copy of the demo data (see ``demo_database``)."""

    def make(
        folder: Path, extra_env: dict[str, str] | None = None, users=("command", "sup-qinzhou", "admin")
    ):
        env = watchwall_env(folder)
        env.update(extra_env or {})
        if "WATCHWALL_DATABASE_URL" not in env:
            demo_database(folder)
        server = ServedWatchWall(env, free_port(), folder / "serve.log")
        add_users(server, users)
        return server

    return make


@pytest.fixture(scope="session")
def served(tmp_path_factory) -> Iterator[ServedWatchWall]:
    """``watchwall serve`` on its embedded defaults (SQLite, demo site, demo data), cameras off."""
    data_dir = tmp_path_factory.mktemp("served")
    server = ServedWatchWall(watchwall_env(data_dir), free_port(), data_dir / "serve.log")
    add_users(server)
    server.start("--no-ingest")
    yield server
    server.stop()


@pytest.fixture
def login():
    return login_as


def login_as(browser, server: ServedWatchWall, username: str, **context_options):
    """A new browser context (its own cookies) logged in as ``username``.

    Playwright's ``wait_for_function`` evaluates its predicate with eval() in the page, which the
    pages' CSP forbids, so contexts bypass the CSP unless a test asks otherwise; the CSP itself is
    tested with ``bypass_csp=False`` (tests/dashboard/test_web_security_served.py)."""
    context_options.setdefault("bypass_csp", True)
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"login as {username} failed: {page.url}"
    page.close()
    return context


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Not for the session: Playwright's sync API keeps an asyncio
    loop running on the main thread while it is open, and the ONVIF code of later modules
    (cameras.describe, cameras.control) calls asyncio.run(), which a running loop refuses."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run bash .ci/setup (Debian packages chromium, chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def screenshots() -> Path:
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clean_artifacts() -> None:
    shutil.rmtree(ARTIFACTS / "screenshots", ignore_errors=True)


@pytest.fixture
def http_login():
    """``http_login(server, username)``: a requests.Session logged in through the real form."""

    def log_in(server: ServedWatchWall, username: str, password: str = PASSWORD):
        return form_login(server.url, username, password)

    return log_in
