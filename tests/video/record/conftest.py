"""Fixtures for the recording tests: a migrated database (SQLite file, or the real PostgreSQL), folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchwall.config.database import make_engine, upgrade


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
def postgres_url(postgres):
    """A throwaway PostgreSQL database, migrated, dropped afterwards."""
    url = postgres.migrated("ww_rec")
    yield url
    postgres.drop(url)
