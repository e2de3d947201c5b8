"""Lease engines on a fresh migrated PostgreSQL database, with short leases so tests stay quick."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import pytest

from watchwall.cluster.leases import LeaseEngine, TickResult, lease_database

TTL_S = 3.0
RENEW_S = 1.0
MARGIN_S = 0.5


@pytest.fixture
def cluster_url(postgres) -> Iterator[str]:
    url = postgres.migrated("ww_cluster")
    yield url
    postgres.drop(url)


@pytest.fixture
def nodes(cluster_url):
    """``nodes("a", county=..., max_cameras=...)`` makes (and registers) a LeaseEngine; all closed after."""
    made: list[LeaseEngine] = []

    def make(name: str, *, url: str | None = None, register: bool = True, **options) -> LeaseEngine:
        options.setdefault("address", f"127.0.0.1:{8700 + len(made)}")
        engine = LeaseEngine(
            lease_database(url or cluster_url),
            name,
            ttl_s=TTL_S,
            renew_interval_s=RENEW_S,
            safety_margin_s=MARGIN_S,
            **options,
        )
        made.append(engine)
        if register:
            engine.register()
        return engine

    yield make
    for engine in made:
        engine.engine.dispose()


def settle(engines: Sequence[LeaseEngine], cameras, *, rounds: int = 15) -> dict[str, TickResult]:
    """Tick every engine in turn (releasing at once) until a whole round changes nothing."""
    for _ in range(rounds):
        results = {engine.name: engine.tick(cameras, release_now=True) for engine in engines}
        if not any(result.gained or result.lost or result.released for result in results.values()):
            return results
    raise AssertionError(
        f"no steady state after {rounds} rounds: { {e.name: sorted(e.owned) for e in engines} }"
    )


def tick_until(engine: LeaseEngine, cameras, done, *, timeout_s: float = 15.0, interval_s: float = 0.25):
    """Tick ``engine`` until ``done(result)`` (or fail after ``timeout_s``); the result that satisfied it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = engine.tick(cameras, release_now=True)
        if done(result):
            return result
        time.sleep(interval_s)
    raise AssertionError(
        f"{engine.name}: condition not reached in {timeout_s} s (owns {sorted(engine.owned)})"
    )
