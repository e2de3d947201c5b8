"""The web role's live relay keeps streaming whatever else is slow: the database, another viewer.

Real processes: a GStreamer RTSP camera, a node, the web role under gunicorn, PostgreSQL. While a
transaction holds the audit chain's head row (as a burst of audit appends or a slow database
does), a WebSocket opened on ``/live/<camera>`` still gets its init and frames at the camera's
rate; a viewer that reads nothing at all beside it does not slow it down; and the live view's
audit rows are written once the lock is released.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import threading
import time

import pytest
from sqlalchemy import text

from tests.dashboard.conftest import wait_http
from tests.roles.test_media_relay import CAMERA, node_address, owner, relay_cluster  # noqa: F401 (fixture)
from tests.roles.test_web_role import log_in
from tests.support.cluster import REDIS_URL, wait_for
from watchwall.audit.log import HEAD_ID
from watchwall.config.database import make_engine
from watchwall.roles.media_relay import RelayMediaView

pytestmark = [pytest.mark.postgres, pytest.mark.rtsp, pytest.mark.slow]


def open_live(url: str, cookie: str, receive_buffer: int | None = None) -> socket.socket:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(30)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /live/{CAMERA} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Cookie: {cookie}\r\n\r\n"
        ).encode()
    )
    return sock


class FastViewer(threading.Thread):
    """Reads every frame; counts the binary ones (init segment and fragments) with their time."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.binary: list[float] = []
        self.stop = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        stream = self.sock.makefile("rb")
        status = stream.readline()
        if b" 101 " not in status:
            self.error = status.decode(errors="replace")
            return
        while stream.readline() not in (b"\r\n", b""):
            pass
        try:
            while not self.stop.is_set():
                head = stream.read(2)
                if len(head) < 2:
                    return
                opcode, length = head[0] & 0x0F, head[1] & 0x7F
                if length == 126:
                    length = struct.unpack(">H", stream.read(2))[0]
                elif length == 127:
                    length = struct.unpack(">Q", stream.read(8))[0]
                payload = stream.read(length)
                if opcode == 0x2:
                    self.binary.append(time.monotonic())
                elif opcode == 0x9:  # ping: a masked pong
                    mask = os.urandom(4)
                    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
                    self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
                elif opcode == 0x8:
                    return
        except OSError as exc:
            if not self.stop.is_set():
                self.error = repr(exc)

    def close(self) -> None:
        self.stop.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def audit_rows(database_url: str, action: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM audit_log WHERE action = :action AND actor = 'command'"),
                {"action": action},
            ).scalar_one()
    finally:
        engine.dispose()


def test_live_socket_streams_while_the_audit_chain_is_locked_and_beside_a_stalled_viewer(relay_cluster):  # noqa: F811
    start_node, database_url, web, web_env, web_log = relay_cluster
    a = start_node("node-a")
    wait_for(lambda: owner(a.env) == "node-a", 90, "node-a owning the camera")
    # The lease comes first; the node publishes the camera in Redis on its next round (every 2 s),
    # and until then the web role answers the socket 404, which the player retries. The test
    # opens its sockets once, so it waits for what the web role reads.
    address, web_view = node_address(a.env, "node-a"), RelayMediaView(REDIS_URL, key=b"")
    wait_for(lambda: web_view.address_of(CAMERA) == address, 30, "node-a publishing the camera")
    try:
        wait_http(f"{web.url}/login", 120)
    except TimeoutError:
        pytest.fail(f"the web role did not start:\n{web_log.read_text()[-3000:]}")
    session = log_in(web.url, "command")  # writes the login's audit row: the head row exists
    cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())

    locker = make_engine(database_url)
    lock = locker.connect()
    transaction = lock.begin()
    stalled = viewer = None
    try:
        locked = lock.execute(
            text("UPDATE audit_head SET last_id = last_id WHERE id = :id"), {"id": HEAD_ID}
        ).rowcount
        assert locked == 1
        # a viewer that never reads, with a small receive buffer: its socket fills at once
        stalled = open_live(web.url, cookie, receive_buffer=4096)
        viewer = FastViewer(open_live(web.url, cookie))
        viewer.start()
        deadline = time.monotonic() + 40
        while len(viewer.binary) < 60 and time.monotonic() < deadline and viewer.is_alive():
            time.sleep(0.5)
        assert viewer.error is None, viewer.error
        # 10 fps: 60 messages (the init, the GOP so far, then live frames) in a few seconds
        assert len(viewer.binary) >= 60, (
            f"the live socket got {len(viewer.binary)} binary messages in 40 s while the audit "
            f"chain was locked:\n{web_log.read_text()[-3000:]}"
        )
        last = viewer.binary[-40:]
        assert last[-1] - last[0] < 8, "frames came in bursts, not at the camera's rate"
        assert audit_rows(database_url, "live_view") == 0  # the rows wait for the lock, not the video
    finally:
        transaction.rollback()
        lock.close()
        locker.dispose()
        if viewer is not None:
            viewer.close()
        if stalled is not None:
            stalled.close()
    # released: both sockets' start and end rows reach the audit log
    wait_for(lambda: audit_rows(database_url, "live_view_end") >= 2, 60, "the live views' end rows")
    assert audit_rows(database_url, "live_view") >= 2
