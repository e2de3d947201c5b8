"""Fixtures every test package shares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from xdist.scheduler import LoadScopeScheduling  # the suite runs on its workers (-n 2, pyproject.toml)

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


# Modules on the local Redis's database 0 and its pub/sub (which no Redis database keeps apart):
# two of them at once would see each other's cameras and events.
SHARED_REDIS_MODULES = frozenset(
    {
        "tests/cluster/test_status.py",
        "tests/roles/test_live_relay_isolation.py",
        "tests/roles/test_media_relay.py",
        "tests/roles/test_node_db_outage.py",
        "tests/roles/test_node_failover.py",
        "tests/roles/test_node_inventory.py",
        "tests/roles/test_state_link.py",
        "tests/roles/test_web_role.py",
        "tests/video/test_events.py",
        "tests/video/test_redis_sink_faults.py",
    }
)


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """pytest-xdist's workers (``-n 2``, pyproject.toml) take whole modules, so a module's fixtures are
    set up once and its tests run in their order; the SHARED_REDIS_MODULES go, one after another, to
    one worker. (xdist's own ``loadgroup`` marks no longer group anything on pytest 9.2, whose node
    ids cannot be renamed; ``_split_scope`` is xdist's documented way to group.)"""

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "shared-redis" if module in SHARED_REDIS_MODULES else module

    return ModuleScheduling(config, log)
