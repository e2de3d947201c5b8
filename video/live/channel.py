"""Live view without transcoding: the camera's own H.264 or H.265 packets as fragmented MP4.

H.265 goes out in ``hvc1`` sample entries; whether the browser can play it is the
browser's answer (MediaSource.isTypeSupported), so the channel muxes it like H.264.

One :class:`LiveChannel` per camera muxes its packets once, however many
viewers watch; each viewer gets the init segment, the fragments since the last
keyframe (so a picture appears at once), then live fragments. A viewer that
falls behind is cut back to the live edge at the next keyframe instead of
buffering forever. A channel only runs while someone watches.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass

from watchwall.video.codec.fmp4 import (
    Sample,
    init_segment,
    media_fragment,
    parameter_sets_from,
    timescale_of,
    to_sample,
)
from watchwall.video.codec.hvcc import hevc_parameter_sets_from
from watchwall.video.ingest.fanout import Fanout, Subscription
from watchwall.video.ingest.packet import MediaPacket, StreamInfo

log = logging.getLogger(__name__)
SUBSCRIPTION_PACKETS = 300  # room for a whole GOP handed over at once when a channel starts
LIVE_CODECS = {"h264": parameter_sets_from, "hevc": hevc_parameter_sets_from}


@dataclass(frozen=True)
class Fragment:
    data: bytes
    keyframe: bool


class LiveMuxer:
    """MediaPackets in; an init segment and one fragment per frame out (no decode, no encode).

    A frame's fragment leaves when the next frame arrives, since only then is its
    duration known: one frame of latency.
    """

    def __init__(self, stream: StreamInfo) -> None:
        if stream.codec not in LIVE_CODECS:
            raise ValueError(f"live view plays H.264 and H.265 only, not {stream.codec}")
        self.stream = stream
        self._parameters_from = LIVE_CODECS[stream.codec]
        self.timescale = timescale_of(stream.time_base)
        self._ticks = stream.time_base * self.timescale
        rate = stream.average_rate or 25
        self._frame_ticks = max(1, round(self.timescale / rate))
        self.codec: str | None = None
        self.parameters = None  # ParameterSets or HevcParameterSets
        self.init_segment: bytes | None = None
        self._held: tuple[MediaPacket, int] | None = None
        self._first_dts: int | None = None
        self._last_dts: int | None = None
        self._sequence = 0

    def _ticks_of(self, value: int) -> int:
        return int(value * self._ticks)

    def push(self, packet: MediaPacket) -> list[Fragment]:
        if self.init_segment is None:
            if not packet.is_keyframe:
                return []  # a fragmented stream must open on a keyframe
            parameters = self._parameters_from(self.stream.extradata, packet.data)
            if parameters is None:
                return []  # no (VPS/)SPS/PPS yet: wait for a keyframe that carries them
            self.parameters = parameters
            self.codec = parameters.codec
            self.init_segment = init_segment(
                self.stream.width, self.stream.height, self.timescale, parameters
            )
        elif packet.is_keyframe:
            in_band = self._parameters_from(None, packet.data)
            if in_band is not None and in_band != self.parameters:
                raise ValueError(
                    "the camera changed its parameter sets"
                )  # the channel restarts with a new init
        raw_dts = packet.dts if packet.dts is not None else packet.pts
        if raw_dts is None:  # some RTSP servers send the first frame without timestamps
            dts = self._last_dts + self._frame_ticks if self._last_dts is not None else 0
        else:
            if self._first_dts is None:
                # after untimed frames, continue their timeline rather than restart it
                already = self._last_dts + self._frame_ticks if self._last_dts is not None else 0
                self._first_dts = raw_dts - round(already / self._ticks)
            dts = self._ticks_of(raw_dts - self._first_dts)
        if self._last_dts is not None and dts <= self._last_dts:
            dts = self._last_dts + 1  # cameras do repeat timestamps; decode times must increase
        self._last_dts = dts
        fragments = []
        if self._held is not None:
            held, held_dts = self._held
            fragments.append(self._fragment(held, held_dts, dts - held_dts))
        self._held = (packet, dts)
        return fragments

    def _fragment(self, packet: MediaPacket, dts: int, duration: int) -> Fragment:
        offset = 0
        if packet.pts is not None and packet.dts is not None:
            offset = self._ticks_of(packet.pts - packet.dts)
        self._sequence += 1
        sample = Sample(to_sample(packet.data, self.stream.codec), duration, packet.is_keyframe, offset)
        return Fragment(media_fragment(self._sequence, dts, [sample]), packet.is_keyframe)

    def close(self) -> None:
        self._held = None


class Viewer:
    """One browser's view of a channel: a bounded queue of messages. ``wakeup``, if given, is set
    whenever a message arrives, so that one thread can serve the viewers of several channels."""

    def __init__(self, channel: LiveChannel, max_backlog: int, wakeup: threading.Event | None = None) -> None:
        self.channel = channel
        self.max_backlog = max_backlog
        self.wakeup = wakeup
        self._queue: deque[tuple[str, object]] = deque()
        self._ready = threading.Condition()
        self._waiting_for_keyframe = False
        self.jumps = 0
        self.sent = 0
        self.closed = False

    def _offer(self, kind: str, payload: object, keyframe: bool = False) -> None:
        with self._ready:
            if kind == "fragment":
                if len(self._queue) >= self.max_backlog:
                    # Fallen behind: drop the backlog (keeping any init/reset) and resume at the next keyframe.
                    self._queue = deque(message for message in self._queue if message[0] in ("init", "reset"))
                    self.jumps += 1
                    self._waiting_for_keyframe = True
                if self._waiting_for_keyframe:
                    if not keyframe:
                        return
                    self._waiting_for_keyframe = False
                    self._queue.append(("jump", None))
            else:
                self._waiting_for_keyframe = False  # a new init always starts on a keyframe
            self._queue.append((kind, payload))
            self._ready.notify()
        if self.wakeup is not None:
            self.wakeup.set()

    def get(self, timeout: float) -> tuple[str, object] | None:
        """The next ("init", (codec, bytes)) / ("fragment", bytes) / ("jump", None) / ("reset", None)."""
        with self._ready:
            if not self._queue and not self.closed:
                self._ready.wait(timeout)
            if self._queue:
                self.sent += 1
                return self._queue.popleft()
            return None

    def close(self) -> None:
        with self._ready:
            self.closed = True
            self._ready.notify_all()
        self.channel.detach(self)


class LiveChannel:
    """One camera's live fMP4, muxed once and shared by its viewers."""

    def __init__(
        self, camera_id: str, fanout: Fanout, *, max_backlog: int = 90, idle_timeout: float = 1.0
    ) -> None:
        self.camera_id = camera_id
        self.fanout = fanout
        self.max_backlog = max_backlog
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._viewers: list[Viewer] = []
        self._muxer: LiveMuxer | None = None
        self._gop: list[Fragment] = []
        self._subscription: Subscription | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._announced = False
        self.unsupported_codec: str | None = None
        self.fragments = 0
        self.resets = 0

    @property
    def viewers(self) -> int:
        with self._lock:
            return len(self._viewers)

    def attach(self, wakeup: threading.Event | None = None) -> Viewer:
        viewer = Viewer(self, self.max_backlog, wakeup)
        with self._lock:
            if self._muxer is not None and self._muxer.init_segment is not None:
                viewer._offer("init", (self._muxer.codec, self._muxer.init_segment))
                for fragment in self._gop:
                    viewer._offer("fragment", fragment.data, fragment.keyframe)
            self._viewers.append(viewer)
            if self._thread is None:
                self._start()
        return viewer

    def detach(self, viewer: Viewer) -> None:
        with self._lock:
            if viewer in self._viewers:
                self._viewers.remove(viewer)
            last = not self._viewers
        if last:
            self.stop()

    def _start(self) -> None:
        self._stop.clear()
        self._subscription = self.fanout.subscribe(
            f"live:{self.camera_id}",
            maxsize=max(SUBSCRIPTION_PACKETS, self.max_backlog),
            from_last_keyframe=True,
        )
        self._thread = threading.Thread(target=self._run, name=f"live-{self.camera_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        with self._lock:
            thread, subscription = self._thread, self._subscription
            self._thread = self._subscription = None
            if self._viewers:  # someone attached again meanwhile
                self._thread, self._subscription = thread, subscription
                return
        self._stop.set()
        if subscription is not None:
            subscription.close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            if self._muxer is not None:
                self._muxer.close()
            self._muxer, self._gop = None, []

    def _run(self) -> None:
        subscription = self._subscription
        while not self._stop.is_set() and subscription is not None:
            packet = subscription.get(timeout=self.idle_timeout)
            if packet is None:
                continue
            try:
                self._handle(packet)
            except ValueError as exc:  # a stream the muxer cannot carry: restart on the next keyframe
                log.warning("live %s: %s; restarting the stream", self.camera_id, exc)
                self._reset()

    def _handle(self, packet: MediaPacket) -> None:
        if packet.stream.codec not in LIVE_CODECS:
            self.unsupported_codec = packet.stream.codec  # the page shows thumbnails instead
            return
        self.unsupported_codec = None
        muxer = self._muxer
        if muxer is not None and muxer.stream != packet.stream:
            self._reset()  # the camera reconnected with other parameters
            muxer = None
        if muxer is None:
            if not packet.is_keyframe:
                return
            muxer = self._muxer = LiveMuxer(packet.stream)
            self._announced = False
        fragments = muxer.push(packet)
        with self._lock:
            if muxer.init_segment is not None and not self._announced:
                self._announced = True
                for viewer in self._viewers:
                    viewer._offer("init", (muxer.codec, muxer.init_segment))
            for fragment in fragments:
                self.fragments += 1
                if fragment.keyframe:
                    self._gop = []
                self._gop.append(fragment)
                for viewer in self._viewers:
                    viewer._offer("fragment", fragment.data, fragment.keyframe)

    def _reset(self) -> None:
        with self._lock:
            if self._muxer is not None:
                self._muxer.close()
            self._muxer, self._gop = None, []
            self.resets += 1
            for viewer in self._viewers:
                viewer._offer("reset", None)


class LiveHub:
    """The live channels of every camera's streams, created on first view.

    ``stream_fanouts`` (camera -> stream name -> fan-out, the ingest's) gives each stream;
    without it, ``fanouts`` gives the main stream alone.
    """

    def __init__(
        self, fanouts: dict[str, Fanout], stream_fanouts: dict[str, dict[str, Fanout]] | None = None
    ) -> None:
        self._fanouts = fanouts
        self._stream_fanouts = stream_fanouts
        self._channels: dict[tuple[str, str], LiveChannel] = {}
        self._lock = threading.Lock()

    def _fanout(self, camera_id: str, stream: str) -> Fanout:
        if self._stream_fanouts is None:
            if stream != "main":
                raise KeyError((camera_id, stream))
            return self._fanouts[camera_id]
        return self._stream_fanouts[camera_id][stream]

    def channel(self, camera_id: str, stream: str = "main") -> LiveChannel:
        """The stream's channel; KeyError when the camera (or that stream of it) is not pulled."""
        with self._lock:
            key = (camera_id, stream)
            fanout = self._fanout(camera_id, stream)
            channel = self._channels.get(key)
            # a camera pulled again (restarted, or given back to this node) has a new fan-out: a
            # channel of the old one would never get a packet; its viewers end on their own
            if channel is None or channel.fanout is not fanout:
                channel = self._channels[key] = LiveChannel(camera_id, fanout)
            return channel

    def stop(self) -> None:
        for channel in list(self._channels.values()):
            channel.stop()
