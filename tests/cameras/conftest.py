"""Real parts for the camera tests: ipycam cameras, misbehaving servers, a scratch PostgreSQL database."""

from __future__ import annotations

import http.server
import os
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.cameras.onvif_test_params import (  # noqa: E402
    CAMERA_PASSWORD,
    CAMERA_USER,
    CLOCK_OFFSET_S,
    PASSWORD_ENV,
)
from tests.support.ipycam_process import IpycamProcess, start_ipycam  # noqa: E402


@pytest.fixture(scope="session")
def open_camera(tmp_path_factory) -> Iterator[IpycamProcess]:
    """No credentials, RTSP on, clock 30 s ahead."""
    camera = start_ipycam(tmp_path_factory.mktemp("ipycam-open"), rtsp=True, clock_offset=CLOCK_OFFSET_S)
    yield camera
    camera.stop()


@pytest.fixture(scope="session")
def auth_camera(tmp_path_factory) -> Iterator[IpycamProcess]:
    """WS-Security credentials required; no RTSP."""
    camera = start_ipycam(
        tmp_path_factory.mktemp("ipycam-auth"),
        rtsp=False,
        user=CAMERA_USER,
        password_env=PASSWORD_ENV,
        env={PASSWORD_ENV: CAMERA_PASSWORD},
    )
    yield camera
    camera.stop()


@pytest.fixture
def camera_password(monkeypatch) -> str:
    monkeypatch.setenv(PASSWORD_ENV, CAMERA_PASSWORD)
    return CAMERA_PASSWORD


class _PlainWebHandler(http.server.BaseHTTPRequestHandler):
    def _page(self) -> None:
        body = b"<html><body>router admin page</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _page
    do_POST = _page

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture(scope="session")
def plain_http_server() -> Iterator[str]:
    """An HTTP server that is not ONVIF: answers every request with an HTML page."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PlainWebHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def silent_tcp_server() -> Iterator[str]:
    """Accepts connections and never answers (a hung device)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(connection)

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.fixture
def closed_port() -> Iterator[str]:
    """A port that refuses connections: bound (so no one else takes it) but not listening."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    yield f"127.0.0.1:{holder.getsockname()[1]}"
    holder.close()


@pytest.fixture
def scratch_database_url(postgres) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    url = postgres.create("ww_cameras")
    yield url
    postgres.drop(url)


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    """Environment for running ``watchwall`` in a subprocess with a private data dir."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHWALL_")}
    env["WATCHWALL_DATA_DIR"] = str(tmp_path / "data")
    return env
