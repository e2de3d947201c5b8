"""Real RTSP servers and misbehaving peers for the ingest tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.rtsp_process import RTSP_PASSWORD, RTSP_USER, GarbageServer, RtspServerProcess, closed_port  # noqa: E402

SHARED_MOUNTS = {"/cam0": "h264", "/cam1": "h264", "/hevc": "h265", "/valve": "valve", "/broken": "broken"}


@pytest.fixture(scope="session")
def rtsp_server() -> Iterator[RtspServerProcess]:
    """One server for the tests that leave it running: H.264, H.265, a stallable valve, corrupted data."""
    server = RtspServerProcess(SHARED_MOUNTS).start()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def auth_server() -> Iterator[RtspServerProcess]:
    """Every mount needs basic authentication."""
    server = RtspServerProcess({"/cam0": "h264"}, user=RTSP_USER, password=RTSP_PASSWORD).start()
    yield server
    server.kill()


@pytest.fixture
def outage_server() -> Iterator[RtspServerProcess]:
    """A server of its own, for the tests that kill it."""
    server = RtspServerProcess({"/cam0": "h264"}).start()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def garbage_server() -> Iterator[GarbageServer]:
    server = GarbageServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def silent_server() -> Iterator[GarbageServer]:
    server = GarbageServer(silent=True).start()
    yield server
    server.stop()


@pytest.fixture
def refused_port() -> int:
    return closed_port()
