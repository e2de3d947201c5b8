"""Fan-out of one camera's packets to many consumers; a slow consumer only hurts itself.

Each subscriber has a bounded queue. When it is full the oldest packet is
dropped and counted, so the reader never blocks and the others never wait.

The RTSP loop hands a camera's packets over a tick at a time (a few frames), so they are
published and taken in batches: one lock and one wake-up a batch, not a packet.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator

from watchwall.video.ingest.packet import MediaPacket

MAX_GOP_PACKETS = 600  # 24 s at 25 fps: cameras send a keyframe every 1-4 s


class Subscription:
    def __init__(
        self,
        fanout: Fanout,
        name: str,
        maxsize: int,
        keyframes_only: bool,
        on_packet: Callable[[], None] | None = None,
    ) -> None:
        self._fanout = fanout
        self._on_packet = on_packet  # told after each packet queued (a consumer with no thread of its own)
        self.name = name
        self.maxsize = maxsize
        self.keyframes_only = keyframes_only
        self._queue: deque[MediaPacket] = deque()
        self._in_hand = 0  # taken by drain() and not handed out yet
        self._ready = threading.Condition(threading.Lock())
        self.delivered = 0
        self.dropped = 0
        self.closed = False

    def _offer(self, packet: MediaPacket) -> None:
        self._offer_many((packet,))

    def _offer_many(self, packets) -> None:
        """Queue ``packets`` (in order) under one lock; ``on_packet`` is told once."""
        if self.keyframes_only:
            packets = [packet for packet in packets if packet.is_keyframe]
            if not packets:
                return
        queue = self._queue
        with self._ready:
            queue.extend(packets)
            self.delivered += len(packets)
            excess = len(queue) - self.maxsize
            if excess > 0:
                for _ in range(excess):
                    queue.popleft()
                self.dropped += excess
            self._ready.notify()
        if self._on_packet is not None:
            self._on_packet()

    def get(self, timeout: float | None = None) -> MediaPacket | None:
        """The next packet, or None after ``timeout`` seconds or once closed."""
        with self._ready:
            if not self._queue and not self.closed:
                self._ready.wait(timeout)
            return self._queue.popleft() if self._queue else None

    def take(self, timeout: float | None = None) -> list[MediaPacket]:
        """Every packet queued, oldest first, waiting up to ``timeout`` seconds for one
        (an empty list after the timeout, or once closed and drained)."""
        return self._take(timeout, in_hand=False)

    def _take(self, timeout: float | None, in_hand: bool) -> list[MediaPacket]:
        with self._ready:
            if not self._queue and not self.closed:
                self._ready.wait(timeout)
            packets = list(self._queue)
            self._queue.clear()
            self._in_hand = len(packets) if in_hand else 0
            return packets

    def drain(self, timeout: float | None = None) -> Iterator[MediaPacket]:
        """:meth:`take`'s packets one by one; :meth:`pending` counts those not yet reached, as
        if they were still queued (what a consumer taking packets one at a time would show)."""
        for packet in self._take(timeout, in_hand=True):
            self._in_hand -= 1  # only the consumer's thread writes it
            yield packet

    def pending(self) -> int:
        """Packets queued, and those taken by :meth:`drain` that it has not handed out yet."""
        with self._ready:
            return len(self._queue) + self._in_hand

    def close(self) -> None:
        self._fanout._remove(self)
        with self._ready:
            self.closed = True
            self._ready.notify_all()


class Fanout:
    """``whole_gop_codecs``: the codecs whose current GOP is kept whole for a live view's instant
    start (None: every codec). For the others only the last keyframe is kept (a full-size snapshot
    needs no more) and a live view starts at the camera's next keyframe. A 2 s GOP of a 2 Mbit/s
    main stream is about 0.5 MiB a camera, not worth keeping for an H.265 stream that Debian's
    Chromium cannot play at all (its MSE has no H.265); a live channel already watched keeps its
    own GOP for the viewers who join it (video.live.channel).
    """

    def __init__(self, camera_id: str, whole_gop_codecs: frozenset[str] | None = None) -> None:
        self.camera_id = camera_id
        self.whole_gop_codecs = whole_gop_codecs
        self._subscribers: tuple[Subscription, ...] = ()
        self._gop: list[MediaPacket] = []  # the packets since the last keyframe, or that keyframe alone
        self._gop_whole = True  # False: _gop holds the keyframe only
        self._lock = threading.Lock()
        self.published = 0

    def subscribe(
        self,
        name: str,
        maxsize: int = 256,
        keyframes_only: bool = False,
        from_last_keyframe: bool = False,
        on_packet: Callable[[], None] | None = None,
    ) -> Subscription:
        """A new consumer; ``from_last_keyframe`` hands it the current GOP first, so a live
        view shows a picture at once instead of waiting for the camera's next keyframe (a
        ``keyframes_only`` consumer gets the last keyframe). ``on_packet`` is called after
        each packet queued for it, from the publishing thread."""
        subscription = Subscription(self, name, maxsize, keyframes_only, on_packet)
        with self._lock:
            fits = len(self._gop) <= maxsize  # a GOP that does not fit would lose its start
            if from_last_keyframe and fits and (self._gop_whole or keyframes_only):
                for packet in self._gop:
                    subscription._offer(packet)
            self._subscribers = (*self._subscribers, subscription)
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscription)

    def publish(self, packet: MediaPacket) -> None:
        self.publish_many((packet,))

    def publish_many(self, packets) -> None:
        """Publish ``packets`` in order: each subscriber is handed them all at once."""
        if not packets:
            return
        with self._lock:  # the GOP and the subscriber list change together (see subscribe)
            self.published += len(packets)
            for packet in packets:
                if packet.is_keyframe:
                    self._gop = [packet]
                    codecs = self.whole_gop_codecs
                    self._gop_whole = codecs is None or packet.stream.codec in codecs
                elif self._gop and self._gop_whole:
                    if len(self._gop) < MAX_GOP_PACKETS:
                        self._gop.append(packet)
                    else:
                        self._gop = []  # no keyframe for far too long: keep nothing rather than everything
            subscribers = self._subscribers
        for subscription in subscribers:
            subscription._offer_many(packets)

    @property
    def subscribers(self) -> tuple[Subscription, ...]:
        return self._subscribers
