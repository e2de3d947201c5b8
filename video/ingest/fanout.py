"""Fan-out of one camera's packets to many consumers; a slow consumer only hurts itself.

Each subscriber has a bounded queue. When it is full the oldest packet is
dropped and counted, so the reader never blocks and the others never wait.
"""

from __future__ import annotations

import threading
from collections import deque

from watchwall.video.ingest.packet import MediaPacket

MAX_GOP_PACKETS = 600  # 24 s at 25 fps: cameras send a keyframe every 1-4 s


class Subscription:
    def __init__(self, fanout: Fanout, name: str, maxsize: int, keyframes_only: bool) -> None:
        self._fanout = fanout
        self.name = name
        self.maxsize = maxsize
        self.keyframes_only = keyframes_only
        self._queue: deque[MediaPacket] = deque()
        self._ready = threading.Condition(threading.Lock())
        self.delivered = 0
        self.dropped = 0
        self.closed = False

    def _offer(self, packet: MediaPacket) -> None:
        if self.keyframes_only and not packet.is_keyframe:
            return
        with self._ready:
            if len(self._queue) >= self.maxsize:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(packet)
            self.delivered += 1
            self._ready.notify()

    def get(self, timeout: float | None = None) -> MediaPacket | None:
        """The next packet, or None after ``timeout`` seconds or once closed."""
        with self._ready:
            if not self._queue and not self.closed:
                self._ready.wait(timeout)
            return self._queue.popleft() if self._queue else None

    def pending(self) -> int:
        with self._ready:
            return len(self._queue)

    def close(self) -> None:
        self._fanout._remove(self)
        with self._ready:
            self.closed = True
            self._ready.notify_all()


class Fanout:
    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self._subscribers: tuple[Subscription, ...] = ()
        self._gop: list[MediaPacket] = []  # the packets since the last keyframe
        self._lock = threading.Lock()
        self.published = 0

    def subscribe(
        self, name: str, maxsize: int = 256, keyframes_only: bool = False, from_last_keyframe: bool = False
    ) -> Subscription:
        """A new consumer; ``from_last_keyframe`` hands it the current GOP first, so a live
        view shows a picture at once instead of waiting for the camera's next keyframe."""
        subscription = Subscription(self, name, maxsize, keyframes_only)
        with self._lock:
            if (
                from_last_keyframe and len(self._gop) <= maxsize
            ):  # a GOP that does not fit would lose its start
                for packet in self._gop:
                    subscription._offer(packet)
            self._subscribers = (*self._subscribers, subscription)
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscription)

    def publish(self, packet: MediaPacket) -> None:
        with self._lock:  # the GOP and the subscriber list change together (see subscribe)
            self.published += 1
            if packet.is_keyframe:
                self._gop = [packet]
            elif self._gop:
                if len(self._gop) < MAX_GOP_PACKETS:
                    self._gop.append(packet)
                else:
                    self._gop = []  # no keyframe for far too long: keep nothing rather than everything
            subscribers = self._subscribers
        for subscription in subscribers:
            subscription._offer(packet)

    @property
    def subscribers(self) -> tuple[Subscription, ...]:
        return self._subscribers
