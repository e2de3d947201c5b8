"""Fixtures every test package shares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The PostgreSQL server at 127.0.0.1:5432 (a required real part of the suite)."""
    server = PostgresServer()
    try:
        server.check()
    except Exception as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is needed (bash .ci/setup starts it): {exc}")
    yield server
    server.drop_all()
