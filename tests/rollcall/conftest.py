"""The roll-call tests run on SQLite and on the real PostgreSQL at 127.0.0.1:5432."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import browser, demo_database, served_factory  # noqa: F401  (shared fixtures)
from watchwall.config.database import make_engine, upgrade


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def rollcall_engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rollcall.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres").migrated("ww_rollcall")
    engine = make_engine(url)
    yield engine
    engine.dispose()
