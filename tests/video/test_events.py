"""Event sinks against a real Flask-SocketIO server, a real Socket.IO client and the real Redis."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
import socketio
from flask import Flask, request
from flask_socketio import SocketIO, join_room
from werkzeug.serving import make_server

from watchwall.config.settings import Settings
from watchwall.video.state.events import MemorySink, RedisSink, SocketIOSink, make_sink

REDIS_URL = "redis://127.0.0.1:6379/0"
DEADLINE_S = 15.0


def wait_for(condition, timeout: float = DEADLINE_S, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@contextmanager
def socketio_server(
    message_queue: str | None = None, channel: str | None = None
) -> Iterator[tuple[SocketIO, str]]:
    """A Flask-SocketIO server (threading mode) on a free loopback port; clients join the room they ask for."""
    app = Flask(__name__)
    options = {"async_mode": "threading"}
    if message_queue:
        options.update(message_queue=message_queue, channel=channel)
    server_io = SocketIO(app, **options)

    @server_io.on("connect")
    def _join(auth=None):
        room = (auth or {}).get("room") or request.args.get("room")
        if room:
            join_room(room)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=http.serve_forever, args=(0.05,), name="socketio-test-server", daemon=True
    )
    thread.start()
    try:
        yield server_io, f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=5)


@contextmanager
def listening_client(url: str, event: str, room: str | None = None) -> Iterator[list[dict]]:
    received: list[dict] = []
    # Long-polling: the Werkzeug test server holds a closing WebSocket for ~3 s, which would only slow the tests.
    client = socketio.Client(reconnection=False)
    client.on(event, received.append)
    client.connect(url, auth={"room": room} if room else None, transports=["polling"], wait_timeout=10)
    try:
        yield received
    finally:
        client.disconnect()


def test_memory_sink_keeps_a_bounded_history_safely_across_threads():
    sink = MemorySink(maxlen=100)

    def emit_many(worker: int) -> None:
        for index in range(50):
            sink.emit("camera.alarm", {"worker": worker, "index": index}, room=f"county:{worker}")

    threads = [threading.Thread(target=emit_many, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(sink) == 100
    assert all(name == "camera.alarm" for name, _, _ in sink.events)
    sink.clear()
    assert sink.events == []


def test_socketio_sink_reaches_a_connected_client_in_process():
    with socketio_server() as (server_io, url), listening_client(url, "camera.status") as received:
        sink = SocketIOSink(server_io)
        sink.emit("camera.status", {"camera_id": "cam-a", "state": "live"})
        assert wait_for(lambda: received)
        assert received == [{"camera_id": "cam-a", "state": "live"}]


def test_socketio_sink_sends_to_one_room_only():
    with (
        socketio_server() as (server_io, url),
        listening_client(url, "camera.alarm", room="county:qinzhou") as inside,
        listening_client(url, "camera.alarm", room="county:maiji") as outside,
    ):
        sink = SocketIOSink(server_io)
        sink.emit("camera.alarm", {"camera_id": "qz-1"}, room="county:qinzhou")
        sink.emit("camera.alarm", {"camera_id": "mj-1"}, room="county:maiji")
        assert wait_for(lambda: inside and outside)
        time.sleep(0.2)  # give a misrouted event the chance to arrive
        assert inside == [{"camera_id": "qz-1"}]
        assert outside == [{"camera_id": "mj-1"}]


def test_redis_sink_is_delivered_by_a_web_node_listening_on_redis():
    channel = f"watchwall-test-{uuid.uuid4().hex}"
    subscribers = redis.Redis.from_url(REDIS_URL)
    with (
        socketio_server(message_queue=REDIS_URL, channel=channel) as (_, url),
        listening_client(url, "camera.alarm", room="county:gangu") as inside,
        listening_client(url, "camera.alarm", room="county:wushan") as outside,
    ):
        # The web node's queue listener subscribes in the background once the first client connects.
        assert wait_for(lambda: dict(subscribers.pubsub_numsub(channel)).get(channel.encode(), 0) >= 1)
        sink = RedisSink(REDIS_URL, channel=channel)
        payload = {"camera_id": "gg-1", "kind": "covered", "active": True}
        sink.emit("camera.alarm", payload, room="county:gangu")
        sink.emit("camera.alarm", {"camera_id": "ws-1"}, room="county:wushan")
        assert wait_for(lambda: inside and outside)
        time.sleep(0.2)
        assert inside == [payload]
        assert outside == [{"camera_id": "ws-1"}]
    subscribers.close()


def test_make_sink_prefers_the_local_server_then_redis_then_memory(tmp_path):
    server_io = SocketIO(Flask(__name__), async_mode="threading")
    assert isinstance(make_sink(Settings(data_dir=tmp_path), socketio=server_io), SocketIOSink)
    redis_sink = make_sink(Settings(data_dir=tmp_path, redis_url=REDIS_URL))
    assert isinstance(redis_sink, RedisSink) and redis_sink.channel == "flask-socketio"
    assert isinstance(make_sink(Settings(data_dir=tmp_path)), MemorySink)


@pytest.fixture(autouse=True)
def _redis_is_there():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        pytest.fail("these tests need the Redis server on 127.0.0.1:6379")
