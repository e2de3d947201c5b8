"""Fixtures: a Flask app with the intake API and /metrics on SQLite and on the real PostgreSQL.

On PostgreSQL one throwaway database is created and migrated for the session, emptied before
each test, and dropped at the end.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import flask
import pytest
from werkzeug.serving import make_server

from watchwall.config.database import make_engine, upgrade
from watchwall.config.settings import DEMO_SITE, Settings
from watchwall.config.site import load_site
from watchwall.dashboard.api import register_api
from watchwall.dashboard.api_clients import add_client
from watchwall.dashboard.context import EXTENSION_KEY, AppContext
from watchwall.dashboard.prometheus import register_prometheus

SUBJECTS = [("S-0001", "张三明", "qinzhou"), ("S-0002", "李四", "qinan"), ("S-0003", "欧阳小明", "gangu")]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str = "condition", interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class PostgresDatabase:
    """One database for the session, emptied before each test (dropping one per test is slow)."""

    def __init__(self, server) -> None:
        self.server = server
        self.url: str | None = None

    def empty(self) -> str:
        if self.url is None:
            self.url = self.server.migrated("ww_api")
            return self.url
        return self.server.empty(self.url)


@pytest.fixture(scope="session")
def postgres_database(postgres) -> PostgresDatabase:
    return PostgresDatabase(postgres)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> bytes:
    """A migrated SQLite database, migrated once and copied for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path.read_bytes()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="pg", marks=pytest.mark.postgres),
    ]
)
def database_url(request, tmp_path, sqlite_template) -> str:
    """A fresh, migrated database holding three subjects under supervision through 2024."""
    if request.param == "sqlite":
        path = tmp_path / "watchwall.db"
        path.write_bytes(sqlite_template)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_database").empty()
    from watchwall.metrics.models import Subject

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            Subject.__table__.insert(),
            [
                {
                    "external_id": external_id,
                    "name": name,
                    "county": county,
                    "category": "probation",
                    "start_date": date(2024, 1, 1),
                    "end_date": date(2024, 12, 31),
                    "supervision_level": "ordinary",
                }
                for external_id, name, county in SUBJECTS
            ],
        )
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def demo_site():
    return load_site(DEMO_SITE)


def build_app(context: AppContext) -> flask.Flask:
    server = flask.Flask("watchwall-api-test")
    server.extensions[EXTENSION_KEY] = context
    register_api(server)
    register_prometheus(server)
    return server


@dataclass
class Api:
    app: flask.Flask
    context: AppContext
    tokens: dict[str, str]

    @property
    def engine(self):
        return self.context.engine

    def client(self):
        return self.app.test_client()

    def post(self, what: str, body: Any, token: str | None = "both", **kwargs):
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        return self.client().post(f"/api/v1/{what}", json=body, headers=headers, **kwargs)


@pytest.fixture
def api(database_url, tmp_path, demo_site) -> Iterator[Api]:
    engine = make_engine(database_url)
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    context = AppContext(settings=settings, site=demo_site, engine=engine)
    tokens = {
        "checkins": add_client(engine, "terminal-qinzhou", ["checkins"])[1],
        "cases": add_client(engine, "platform", ["cases"])[1],
        "both": add_client(engine, "both", ["checkins", "cases"])[1],
    }
    yield Api(build_app(context), context, tokens)
    engine.dispose()


@pytest.fixture
def served(api) -> Iterator[str]:
    """The same app behind werkzeug's threaded HTTP server on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, api.app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="api-test-server", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def refused_database_url() -> str:
    """A PostgreSQL URL on a loopback port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/nothing"
