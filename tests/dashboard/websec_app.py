"""The whole dashboard app in this process on its own SQLite data dir, for the web-security tests.

Requests go through Flask's test client into the real WSGI stack (trusted-proxy fix, security
headers, socket.io's middleware, Flask, Dash); ``address`` sets the peer address a request
comes from, as a TCP connection would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from watchwall.config.database import make_engine, upgrade
from watchwall.config.settings import DEMO_SITE, Settings
from watchwall.config.site import load_site
from watchwall.dashboard.accounts import add_user
from watchwall.dashboard.app import create_app
from watchwall.dashboard.context import AppContext
from watchwall.metrics.models import Subject

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://localhost"  # the session cookie is Secure in these tests
PASSWORD = "correct horse battery"
PROXY = "10.9.9.9"
SITE = load_site(DEMO_SITE)
COUNTIES = {centre.code for centre in SITE.counties}


def camera_of(centre: str) -> str:
    return next(place.camera.id for place in SITE.cameras() if place.centre.code == centre)


@dataclass
class WebApp:
    server: object  # flask.Flask
    engine: Engine
    data_dir: Path

    def client(self):
        return self.server.test_client()

    def cli(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("WATCHWALL_")}
        environment.update({"WATCHWALL_DATA_DIR": str(self.data_dir), **(env or {})})
        return subprocess.run(
            [sys.executable, "-m", "watchwall.roles.cli", *args],
            env=environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def add_user(self, name: str, role: str, counties=(), password: str = PASSWORD) -> None:
        add_user(self.engine, name, password, role, list(counties), COUNTIES)


def build(data_dir: Path, users: dict[str, tuple[str, list[str]]]) -> WebApp:
    url = f"sqlite:///{data_dir / 'watchwall.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            Subject.__table__.insert(),
            [
                {
                    "external_id": "S-0001",
                    "name": "张三明",
                    "county": "qinzhou",
                    "category": "probation",
                    "start_date": date(2024, 1, 1),
                    "end_date": date(2030, 12, 31),
                    "supervision_level": "ordinary",
                }
            ],
        )
    settings = Settings(data_dir=data_dir, trusted_proxies=[PROXY], session_cookie_secure=True)
    app = create_app(AppContext(settings=settings, site=SITE, engine=engine))
    web = WebApp(app.server, engine, data_dir)
    for name, (role, counties) in users.items():
        web.add_user(name, role, counties)
    return web


def environ(address: str) -> dict:
    return {"REMOTE_ADDR": address}


def log_in(web: WebApp, username: str, password: str = PASSWORD, address: str = "127.0.0.1", headers=None):
    """(client, response) of the real login form posted from ``address``."""
    client = web.client()
    page = client.get("/login", base_url=BASE, environ_base=environ(address), headers=headers or {})
    token = re.search(r'name="csrf" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post(
        "/login",
        base_url=BASE,
        data={"csrf": token, "username": username, "password": password},
        headers={"Origin": BASE, **(headers or {})},
        environ_base=environ(address),
    )
    return client, response


def session_cookie(client) -> str:
    return client.get_cookie("watchwall_session").value


def status_with_cookie(web: WebApp, cookie: str, path: str = "/_dash-layout") -> int:
    """The status of ``path`` for a fresh client that only holds ``cookie`` (a copied cookie)."""
    client = web.client()
    client.set_cookie("watchwall_session", cookie, domain="localhost")
    return client.get(path, base_url=BASE).status_code
