"""Where the media plane's status and alarm events go: a Socket.IO server, Redis, or memory.

``video`` never imports ``dashboard``: it emits through an :class:`EventSink`.
In one process the sink is the dashboard's own Flask-SocketIO server; at scale
an ingest node emits through Redis with Flask-SocketIO's external emitter and
the web nodes deliver to their browsers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import redis
from socketio import PubSubManager

from watchwall.config.errors import first_line

if TYPE_CHECKING:
    from watchwall.config.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_CHANNEL = "flask-socketio"
MAX_QUEUED_EVENTS = 10_000  # a node's events for minutes of a Redis outage (thumbnails: 200 cameras / 10 s)
REDIS_TIMEOUT_S = 2.0
RETRY_AFTER_S = 1.0


class Event(StrEnum):
    """Every event the media plane emits (their socket.io names): the one list of them."""

    CAMERA_STATUS = "camera.status"  # a camera's stream state changed (online, stalled, offline, error ...)
    CAMERA_STREAM = "camera.stream"  # one of a camera's streams (the sub stream) changed state
    CAMERA_ALARM = "camera.alarm"  # an alarm raised or cleared (see Alarm)
    CAMERA_THUMBNAIL = "camera.thumbnail"  # a new keyframe thumbnail
    RECORDER_DISK_FULL = "recorder.disk_full"
    RECORDER_WRITE_ERROR = "recorder.write_error"
    RETENTION_SHORT = "recording.retention_short"  # the disk floor cannot be met: the rest is held or recent


class Alarm(StrEnum):
    """The alarm kinds of a camera: video loss from the stream, the others from keyframe analytics."""

    VIDEO_LOSS = "video_loss"
    COVERED = "covered"
    DEFOCUS = "defocus"
    FROZEN = "frozen"
    MOVED = "moved"


ALARM_KINDS = tuple(Alarm)
TAMPER_ALARMS = (Alarm.COVERED, Alarm.DEFOCUS, Alarm.FROZEN, Alarm.MOVED)  # from decoded keyframes


class EventSink(Protocol):
    def emit(self, event: str, payload: dict, room: str | None = None) -> None: ...


class MemorySink:
    """Keeps the last ``maxlen`` events in memory, for headless runs and tests."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._events: deque[tuple[str, dict, str | None]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def emit(self, event: str, payload: dict, room: str | None = None) -> None:
        with self._lock:
            self._events.append((event, payload, room))

    @property
    def events(self) -> list[tuple[str, dict, str | None]]:
        with self._lock:
            return list(self._events)

    def payloads(self, event: str) -> list[dict]:
        return [payload for name, payload, _ in self.events if name == event]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)


class SocketIOSink:
    """Emits through the Flask-SocketIO server of this process."""

    def __init__(self, socketio: Any) -> None:
        self.socketio = socketio

    def emit(self, event: str, payload: dict, room: str | None = None) -> None:
        self.socketio.emit(event, payload, to=room)


class _RedisPublisher(PubSubManager):
    """python-socketio's write-only message-queue manager on Redis, whose ``_publish`` (the one
    method a PubSubManager backend provides) raises when Redis does not take the message, instead
    of logging and dropping it: :class:`RedisSink` keeps the event and tries again."""

    name = "redis"

    def __init__(self, redis_url: str, channel: str) -> None:
        super().__init__(channel=channel, write_only=True)
        self.redis = redis.Redis.from_url(
            redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )

    def _publish(self, data) -> None:
        self.redis.publish(self.channel, self.json.dumps(data))


class RedisSink:
    """Publishes on the Redis channel of Flask-SocketIO's message queue; the web processes deliver.

    A write-only python-socketio manager, as Flask-SocketIO's external emitter uses, without
    importing Flask or the socket.io server into an ingest process.

    ``emit`` never waits for Redis. Its callers are a node's media threads (the RTSP loop says a
    camera is online, the keyframe pool sends thumbnails, a recorder reports a full disk): a Redis
    that hangs, or a link to it that drops packets, must not stop them. The events go to a bounded
    queue that one thread publishes in order over one connection. Many threads publishing at once
    (200 cameras' first thumbnails in the same second) had taken more connections than redis-py's
    pool allows (100): python-socketio then logged "Cannot publish to redis" and replaced its
    client. While Redis is away the thread tries again every ``retry_after_s``; the queue keeps
    the newest ``max_queued`` events and counts those it drops (each camera's current state and
    alarms are republished every 2 s anyway, video.state.shared_state). An event whose publish
    timed out may arrive twice. A payload must not be changed after it is emitted.
    """

    def __init__(
        self,
        redis_url: str,
        channel: str = DEFAULT_CHANNEL,
        max_queued: int = MAX_QUEUED_EVENTS,
        retry_after_s: float = RETRY_AFTER_S,
    ) -> None:
        self.redis_url = redis_url
        self.channel = channel
        self.max_queued = max(1, max_queued)
        self.retry_after_s = retry_after_s
        self._manager = _RedisPublisher(redis_url, channel)
        self._queue: deque[tuple[str, dict, str | None]] = deque()
        self._changed = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._closed = False
        self.published = 0
        self.dropped = 0  # events dropped from a full queue, oldest first
        self._unreachable_since: float | None = None

    def emit(self, event: str, payload: dict, room: str | None = None) -> None:
        with self._changed:
            if self._closed:
                return
            if len(self._queue) >= self.max_queued:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append((event, payload, room))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
                self._thread.start()
            self._changed.notify()

    @property
    def queued(self) -> int:
        with self._changed:
            return len(self._queue)

    def close(self, timeout: float = 5.0) -> None:
        """Publish what is queued, for up to ``timeout`` seconds, then stop; later events are ignored."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._queue and not self._closed:
                    self._changed.wait()
                if not self._queue:
                    return
                head = self._queue[0]
            event, payload, room = head
            try:
                self._manager.emit(event, payload, namespace="/", room=room)
            except redis.RedisError as exc:
                self._unreachable(exc)
                with self._changed:
                    if self._closed:
                        return
                    self._changed.wait(self.retry_after_s)
                continue
            with self._changed:
                if self._queue and self._queue[0] is head:  # not dropped meanwhile by a full queue
                    self._queue.popleft()
                self.published += 1
            if self._unreachable_since is not None:
                log.info(
                    "events: Redis answers again after %.0f s; %d events dropped so far",
                    time.monotonic() - self._unreachable_since,
                    self.dropped,
                )
                self._unreachable_since = None

    def _unreachable(self, exc: redis.RedisError) -> None:
        if self._unreachable_since is None:
            self._unreachable_since = time.monotonic()
            log.warning(
                "events: Redis does not take them (%s); they wait, up to %d, and are retried every %g s",
                first_line(exc),
                self.max_queued,
                self.retry_after_s,
            )


def make_sink(settings: Settings, socketio: Any = None) -> EventSink:
    """This process's server if there is one, else Redis when configured, else memory."""
    if socketio is not None:
        return SocketIOSink(socketio)
    if settings.redis_url:
        return RedisSink(settings.redis_url)
    return MemorySink()
