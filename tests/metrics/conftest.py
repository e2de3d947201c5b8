"""Fixtures: the same tests on SQLite and on the real PostgreSQL at 127.0.0.1:5432.

PostgreSQL databases are throwaway ones, created through the ``postgres`` maintenance
database for this test session and dropped after it.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pytest

from tests.dashboard.conftest import demo_database  # noqa: F401  (shared fixture)
from watchwall.config.database import make_engine, upgrade
from watchwall.config.settings import reset_settings_cache

DATA = Path(__file__).parent / "data"
_names = itertools.count(1)


class PostgresDatabases:
    """The metrics tests' view of the shared server: fresh databases, empty or migrated."""

    def __init__(self, server) -> None:
        self.server = server

    def create(self, template: str | None = None) -> str:
        return self.server.create("ww_metrics", template=template)

    def migrated(self) -> str:
        return self.server.migrated("ww_metrics")


@pytest.fixture(scope="session")
def postgres_databases(postgres):
    return PostgresDatabases(postgres)


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def empty_url(backend, tmp_path, request) -> str:
    """A fresh, migrated database with no rows."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'cases.db'}"
        upgrade(url)
        return url
    return request.getfixturevalue("postgres_databases").migrated()


@pytest.fixture
def engine_for():
    engines = []

    def open_engine(url: str):
        engine = make_engine(url)
        engines.append(engine)
        return engine

    yield open_engine
    for engine in engines:
        engine.dispose()


@pytest.fixture
def watchwall_env(monkeypatch, tmp_path):
    """Run ``watchwall`` in-process against a given database URL."""

    def use(url: str | None) -> None:
        monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path / "data"))
        if url is None:
            monkeypatch.delenv("WATCHWALL_DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("WATCHWALL_DATABASE_URL", url)
        reset_settings_cache()

    yield use
    reset_settings_cache()


def _load_demo_through_cli(url: str, data_dir: Path) -> None:
    from watchwall.roles.cli import main

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WATCHWALL_DATA_DIR", str(data_dir))
        patch.setenv("WATCHWALL_DATABASE_URL", url)
        reset_settings_cache()
        try:
            assert main(["demo-data"]) == 0
        finally:
            reset_settings_cache()


@pytest.fixture(scope="session")
def demo_urls(tmp_path_factory):
    """Per backend, a database loaded once with demo data (read-only for tests): on SQLite the
    default database filled by ``ensure_demo_data`` (as ``watchwall serve`` does), on PostgreSQL
    a configured database filled by ``watchwall demo-data``."""
    loaded: dict[str, str] = {}

    def get(backend: str, request) -> str:
        if backend not in loaded:
            folder = tmp_path_factory.mktemp(f"demo-{backend}")
            if backend == "sqlite":
                # the session's default database filled by ensure_demo_data, copied (one load
                # for these tests and the dashboard's served instances)
                request.getfixturevalue("demo_database")(folder)
                loaded[backend] = f"sqlite:///{folder / 'watchwall.db'}"
            else:
                url = request.getfixturevalue("postgres_databases").create()
                _load_demo_through_cli(url, folder)
                loaded[backend] = url
        return loaded[backend]

    return get


@pytest.fixture
def demo_url(backend, demo_urls, request) -> str:
    return demo_urls(backend, request)


SUBJECTS = [
    ("S-0001", "张三明", "qinzhou"),
    ("S-0002", "李四", "qinan"),
    ("S-0003", "欧阳小明", "gangu"),
]


@pytest.fixture
def subjects_url(empty_url, engine_for) -> str:
    """A migrated database holding three subjects under supervision through 2024."""
    from watchwall.metrics.models import Subject

    engine = engine_for(empty_url)
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
    return empty_url
