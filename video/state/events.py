"""Where the media plane's status and alarm events go: a Socket.IO server, Redis, or memory.

``video`` never imports ``dashboard``: it emits through an :class:`EventSink`.
In one process the sink is the dashboard's own Flask-SocketIO server; at scale
an ingest node emits through Redis with Flask-SocketIO's external emitter and
the web nodes deliver to their browsers.
"""

from __future__ import annotations

import threading
from collections import deque
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from socketio import RedisManager

if TYPE_CHECKING:
    from watchwall.config.settings import Settings

DEFAULT_CHANNEL = "flask-socketio"


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


class RedisSink:
    """Publishes on the Redis channel of Flask-SocketIO's message queue; the web processes deliver.

    A write-only python-socketio manager, as Flask-SocketIO's external emitter uses, without
    importing Flask or the socket.io server into an ingest process.
    """

    def __init__(self, redis_url: str, channel: str = DEFAULT_CHANNEL) -> None:
        self.redis_url = redis_url
        self.channel = channel
        self._manager = RedisManager(redis_url, channel=channel, write_only=True)

    def emit(self, event: str, payload: dict, room: str | None = None) -> None:
        self._manager.emit(event, payload, namespace="/", room=room)


def make_sink(settings: Settings, socketio: Any = None) -> EventSink:
    """This process's server if there is one, else Redis when configured, else memory."""
    if socketio is not None:
        return SocketIOSink(socketio)
    if settings.redis_url:
        return RedisSink(settings.redis_url)
    return MemorySink()
