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


DEMO_RUN_TEST = "test_the_shipped_demo_site_runs_five_minutes_without_an_alarm"


def pytest_collection_finish(session: pytest.Session) -> None:
    """The demo's five-minute run starts now, when its test is selected, and goes on beside the rest."""
    if any(item.name == DEMO_RUN_TEST for item in session.items) and not session.config.option.collectonly:
        from tests.video import demo_run

        demo_run.start()
