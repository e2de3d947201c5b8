"""Fixtures for the recording tests: a migrated database (SQLite file, or the real PostgreSQL), folders."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from watchwall.config.database import make_engine, upgrade

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'watchwall.db'}"
    upgrade(url)
    return url


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def recordings_dir(tmp_path: Path) -> Path:
    path = tmp_path / "recordings"
    path.mkdir()
    return path


@pytest.fixture
def postgres_url():
    """A throwaway PostgreSQL database, migrated, dropped afterwards."""
    try:
        admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    except Exception as exc:  # the server is part of CI; locally it may be absent
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 not reachable: {exc}")
    name = f"watchwall_rec_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
