"""The Redis event sink under load and faults, against real redis-server processes.

A burst from many threads, a Redis that hangs (SIGSTOP) under the emitting threads, and a Redis
that is stopped and started again: no emitting thread waits for Redis, and the events arrive
in order once Redis takes them again.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
import uuid

import redis

from tests.support.redis_process import RedisProcess
from watchwall.video.state.events import RedisSink

MACHINE_REDIS = "redis://127.0.0.1:6379/0"
DEADLINE_S = 20.0


class Listener:
    """A raw subscriber of the socket.io channel: the events' ``n`` field, in arrival order."""

    def __init__(self, url: str, channel: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=30)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.numbers: list[int] = []
        self.rooms: set[str | None] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                message = self.pubsub.get_message(timeout=0.2)
            except redis.RedisError:
                time.sleep(0.1)
                continue
            if message and message["type"] == "message":
                body = json.loads(message["data"])
                self.numbers.append(body["data"][0]["n"])
                self.rooms.add(body["room"])

    def wait_for_count(self, count: int, timeout: float = DEADLINE_S) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(set(self.numbers)) < count:
            time.sleep(0.05)
        return len(set(self.numbers)) >= count

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.pubsub.close()
        self.client.close()


def without_repeats(numbers: list[int]) -> list[int]:
    """An event whose publish timed out may arrive twice, one right after the other."""
    return [n for i, n in enumerate(numbers) if i == 0 or numbers[i - 1] != n]


def test_a_burst_from_hundreds_of_threads_is_published_in_full_without_errors(caplog):
    channel = f"watchwall-burst-{uuid.uuid4().hex}"
    listener = Listener(MACHINE_REDIS, channel)
    sink = RedisSink(MACHINE_REDIS, channel=channel)
    threads, per_thread = 300, 3
    start = threading.Barrier(threads)

    def emit_some(index: int) -> None:
        start.wait()
        for k in range(per_thread):
            sink.emit("camera.thumbnail", {"n": index * per_thread + k}, room="county:qinzhou")

    try:
        with caplog.at_level(logging.INFO):
            workers = [threading.Thread(target=emit_some, args=(i,)) for i in range(threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(30)
            assert listener.wait_for_count(threads * per_thread)
        assert sorted(set(listener.numbers)) == list(range(threads * per_thread))
        assert listener.rooms == {"county:qinzhou"}
        assert sink.dropped == 0
        # redis-py's pool allows 100 connections: python-socketio's own manager logged
        # "Cannot publish to redis... retrying" and replaced its client beyond that.
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    finally:
        sink.close()
        listener.close()


def test_emitting_does_not_wait_for_a_redis_that_hangs_and_the_events_follow_when_it_resumes(tmp_path):
    server = RedisProcess(tmp_path / "redis").start()
    channel = f"watchwall-hang-{uuid.uuid4().hex}"
    listener = Listener(server.url, channel)
    sink = RedisSink(server.url, channel=channel)
    stopped = False
    try:
        sink.emit("camera.status", {"n": 0})
        assert listener.wait_for_count(1)  # the sink's connection is open before Redis hangs
        os.kill(server.process.pid, signal.SIGSTOP)
        stopped = True
        started = time.monotonic()
        for n in range(1, 51):
            sink.emit("camera.status", {"n": n}, room="county:maiji")
        emitting_s = time.monotonic() - started
        # Before, each emit could wait for the socket: redis-py's default has no timeout at all.
        assert emitting_s < 1.0, f"50 emits took {emitting_s:.1f} s with Redis hung"
        time.sleep(3)  # the publisher's attempt times out (2 s) and waits to retry
        assert sink.queued >= 50
        os.kill(server.process.pid, signal.SIGCONT)
        stopped = False
        assert listener.wait_for_count(51)
        assert without_repeats(listener.numbers) == list(range(51))
        assert sink.dropped == 0
    finally:
        if stopped:
            os.kill(server.process.pid, signal.SIGCONT)
        sink.close(timeout=1)
        listener.close()
        server.stop()


def test_a_full_queue_keeps_the_newest_events_and_they_arrive_when_redis_is_back(tmp_path, caplog):
    server = RedisProcess(tmp_path / "redis").start()
    port = server.port
    channel = f"watchwall-outage-{uuid.uuid4().hex}"
    # Retries 4 s apart: Redis restarts and the listener subscribes between two of them.
    sink = RedisSink(server.url, channel=channel, max_queued=5, retry_after_s=4.0)
    try:
        server.stop()
        with caplog.at_level(logging.INFO, logger="watchwall.video.state.events"):
            for n in range(8):
                sink.emit("camera.alarm", {"n": n})
            assert sink.dropped == 3
            assert sink.queued == 5
            deadline = time.monotonic() + DEADLINE_S
            while time.monotonic() < deadline and "does not take them" not in caplog.text:
                time.sleep(0.02)  # the first attempt has failed: the next is 4 s away
            server = RedisProcess(tmp_path / "redis", port=port).start()
            listener = Listener(server.url, channel)
            try:
                assert listener.wait_for_count(5)
                assert without_repeats(listener.numbers) == [3, 4, 5, 6, 7]
            finally:
                listener.close()
            deadline = time.monotonic() + DEADLINE_S
            while time.monotonic() < deadline and "answers again" not in caplog.text:
                time.sleep(0.05)
        assert "does not take them" in caplog.text
        assert "answers again" in caplog.text and "3 events dropped" in caplog.text
    finally:
        sink.close(timeout=1)
        server.stop()


def test_close_publishes_what_is_queued_and_later_events_are_ignored():
    channel = f"watchwall-close-{uuid.uuid4().hex}"
    listener = Listener(MACHINE_REDIS, channel)
    sink = RedisSink(MACHINE_REDIS, channel=channel)
    try:
        for n in range(20):
            sink.emit("camera.thumbnail", {"n": n})
        sink.close()
        assert sink.queued == 0 and sink.published == 20
        sink.emit("camera.thumbnail", {"n": 99})
        assert listener.wait_for_count(20)
        time.sleep(0.3)
        assert listener.numbers == list(range(20))
    finally:
        listener.close()
