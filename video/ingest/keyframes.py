"""One camera's keyframe worker: a thumbnail JPEG every interval, and health analytics.

Decoding is the cost of monitoring, so the worker decodes at most one keyframe
per interval and skips the others without decoding them. It subscribes to the
camera's fan-out for keyframes only with a queue of one: when it falls behind,
old keyframes are dropped, never queued up. It has no thread of its own: the
process's keyframe pool (video.ingest.keyframe_pool) gives it a turn when a
keyframe arrives.

A camera with two streams feeds it the sub stream's keyframes (cheaper to decode) and
names the main stream as the ``fallback``: while the sub stream has sent no keyframe
for ``fallback_after_s``, the newest keyframe of the main stream is used instead, so
the thumbnails and the tamper analytics carry on through a sub stream outage.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from watchwall.config.timestamps import utc_iso
from watchwall.video.analysis.opencv_at_exit import InterpreterExiting, opencv_work
from watchwall.video.ingest.analytics import AlarmChange, HealthDetector, Thresholds
from watchwall.video.ingest.fanout import Fanout, Subscription
from watchwall.video.ingest.keyframe_pool import KeyframePool
from watchwall.video.ingest.packet import MediaPacket, StreamInfo
from watchwall.video.state.events import Event, EventSink

log = logging.getLogger(__name__)

ALARM_EVENT = Event.CAMERA_ALARM
THUMBNAIL_EVENT = Event.CAMERA_THUMBNAIL
JPEG_QUALITY = 80
ALARM_LOG_LENGTH = 1000


class KeyframeDecoder:
    """Decodes single keyframes, each with a decoder of its own that is released after it.

    A keyframe needs no earlier picture, and keyframes are decoded seconds apart: a decoder
    kept open between them holds its frame pool, about 4 MiB a camera at 640x360 (measured
    with benchmarks/streams/run.py), against well under a millisecond to open a new one.
    """

    def __init__(self) -> None:
        self.last_stream: StreamInfo | None = None  # the stream of the last keyframe decoded

    def decode(self, packet: MediaPacket) -> av.VideoFrame | None:
        """The packet's picture, or None when the data does not decode (corrupt or incomplete)."""
        self.last_stream = packet.stream
        context = self._open(packet.stream)
        try:
            frames = context.decode(av.Packet(packet.data))
            frames += context.decode(None)  # drain: nothing follows this picture
        except (av.FFmpegError, ValueError):
            return None
        return frames[-1] if frames else None

    @staticmethod
    def _open(stream: StreamInfo) -> av.CodecContext:
        context = av.CodecContext.create(stream.codec, "r")
        if stream.extradata:
            context.extradata = stream.extradata
        context.thread_count = 1  # frame threading would hold each picture back by a frame
        return context


class _Scalers(threading.local):
    """Each pool thread's picture scalers, kept from one keyframe to the next.

    Setting up libswscale for a picture size and format costs more than the scaling itself
    (a 720p keyframe's thumbnail and grey picture: 1.8 ms CPU set up anew, 0.6 ms kept); a
    frame's own ``reformat`` sets it up anew for every new frame and every change of format.
    Kept per thread, not per camera (about 0.5 MiB each): the cameras of one picture size
    share them, a camera of another size sets them up again.

    Each scales on its pool thread (``threads=1``): left to choose, libswscale starts a worker
    thread a core for every scaler, eight idle threads in a node's keyframe pool, and handing a
    320-pixel picture's slices to them cost 0.1-0.2 ms more CPU a picture than scaling it here
    (same pixels, compared on the benchmarks' 720p keyframes).
    """

    def __init__(self) -> None:
        self.thumbnail = VideoReformatter()
        self.grey = VideoReformatter()


_scalers = _Scalers()


def opencv_on_the_calling_thread() -> None:
    """Have OpenCV run each call on the thread that makes it, without its own thread pool.

    An ingest node's OpenCV work is the keyframe analytics on 320-pixel-wide pictures, already
    spread over the keyframe pool's threads: there, handing each call's rows to OpenCV's pool costs
    more than it saves (a 720p keyframe's analytics: 4.5 against 3.7 ms of CPU on a 2-core machine,
    benchmarks/ingest/keyframe_cost.py --opencv-threads 0 1). The setting is the process's: a process that also runs face checks
    (``watchwall serve``, the web role) keeps OpenCV's pool for them."""
    cv2.setNumThreads(1)


class KeyframeWorker:
    def __init__(
        self,
        camera_id: str,
        fanout: Fanout,
        sink: EventSink,
        *,
        interval_s: float = 5.0,
        thumbnail_dir: Path | None = None,
        thumbnail_width: int = 320,
        centre: str | None = None,
        analytics: bool = True,
        thresholds: Thresholds | None = None,
        fallback: Fanout | None = None,
        fallback_after_s: float | None = None,
        pool: KeyframePool | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.name = f"keyframes-{camera_id}"
        self._pool_wanted = pool
        self.fanout = fanout
        self.fallback = fallback
        self.fallback_after_s = fallback_after_s if fallback_after_s is not None else max(8.0, 2 * interval_s)
        self._fallback_subscription: Subscription | None = None
        self.from_fallback = 0  # keyframes taken from the fallback stream
        self._on_fallback = False
        self.sink = sink
        self.interval_s = interval_s
        self.thumbnail_dir = Path(thumbnail_dir) if thumbnail_dir is not None else None
        self.thumbnail_width = thumbnail_width
        self.centre = centre
        self.detector = HealthDetector(thresholds) if analytics else None
        self._decoder = KeyframeDecoder()
        self._subscription: Subscription | None = None
        self._pool: KeyframePool | None = None  # set while started
        self._last_primary = 0.0  # monotonic time of the preferred stream's last keyframe
        self._lock = threading.Lock()
        self._last_decoded_at: float | None = None
        self._latest_jpeg: bytes | None = None
        self._latest_at: float | None = None
        self._active_alarms: dict[str, dict] = {}
        self._alarm_log: list[dict] = []
        self.keyframes_seen = 0
        self.processed = 0  # packets the worker thread has finished with
        self.decodes = 0
        self.skipped = 0
        self.thumbnails = 0
        self.decode_errors = 0
        self.failures = 0

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._pool is not None:
            raise RuntimeError(f"keyframe worker for {self.camera_id} already started")
        pool = self._pool = self._pool_wanted or KeyframePool.shared()
        self._last_primary = time.monotonic()
        pool.join(self)
        wake = lambda: pool.wake(self)  # noqa: E731
        self._subscription = self.fanout.subscribe(
            "keyframes", maxsize=1, keyframes_only=True, on_packet=wake
        )
        if self.fallback is not None:
            self._fallback_subscription = self.fallback.subscribe(
                "keyframes-fallback", maxsize=1, keyframes_only=True, on_packet=wake
            )

    def stop(self, timeout: float = 2.0) -> None:
        """No keyframe is taken after this; waits up to ``timeout`` for one being handled."""
        if self._subscription is not None:
            self._subscription.close()
        if self._fallback_subscription is not None:
            self._fallback_subscription.close()
        if self._pool is not None:
            self._pool.leave(self, timeout)

    @property
    def running(self) -> bool:
        """Started and not stopped, or still finishing a keyframe after stop()."""
        return self._pool is not None and self._pool.is_member(self)

    @property
    def using_fallback(self) -> bool:
        """Whether the thumbnails come from the fallback stream right now."""
        return self._on_fallback

    def _next(self) -> MediaPacket | None:
        """The next keyframe to handle: the preferred stream's, else the fallback's newest while the
        preferred stream has been silent for ``fallback_after_s``."""
        packet = self._subscription.get(timeout=0)
        if packet is not None:
            self._on_fallback = False
            self._last_primary = time.monotonic()
            return packet
        fallback = self._fallback_subscription
        if fallback is None:
            return None
        packet = fallback.get(timeout=0)  # taken even when not used: only a newer one is worth waiting for
        if packet is not None and time.monotonic() - self._last_primary > self.fallback_after_s:
            self._on_fallback = True
            self.from_fallback += 1
            return packet
        return None

    def take_turn(self) -> bool:
        """One keyframe, when one is waiting (the pool's call); True when another is waiting."""
        if self._subscription is None or self._subscription.closed:
            return False
        packet = self._next()
        if packet is not None:
            try:
                with opencv_work():
                    self.handle(packet)
            except InterpreterExiting:
                return False
            except Exception:  # one bad keyframe must not end the camera's monitoring
                self.failures += 1
                log.exception("keyframe of %s could not be processed", self.camera_id)
            finally:
                self.processed += 1
        return self._subscription.pending() > 0

    # --- one keyframe ----------------------------------------------------------------------------

    def handle(self, packet: MediaPacket) -> bool:
        """Process one packet as the worker thread would; True when it was decoded into a thumbnail."""
        if not packet.is_keyframe:
            return False
        self.keyframes_seen += 1
        if not self._due(packet.wallclock):
            self.skipped += 1
            return False
        self.decodes += 1
        frame = self._decoder.decode(packet)
        if frame is None:
            self.decode_errors += 1
            return False
        self._last_decoded_at = packet.wallclock
        self._make_thumbnail(frame, packet.wallclock)
        if self.detector is not None:
            grey = self._analysis_frame(frame, self.detector.thresholds.analysis_width)
            for change in self.detector.observe(grey, packet.wallclock):
                self._record_alarm(change)
        return True

    def _due(self, at: float) -> bool:
        last = self._last_decoded_at
        # A clock that went backwards (a camera re-synced) restarts the interval rather than stalling it.
        return last is None or at - last >= self.interval_s or at < last

    def _make_thumbnail(self, frame: av.VideoFrame, at: float) -> None:
        width = min(self.thumbnail_width, frame.width)
        height = max(2, round(frame.height * width / frame.width / 2) * 2)
        picture = _scalers.thumbnail.reformat(
            frame, width=width, height=height, format="bgr24", interpolation="AREA", threads=1
        ).to_ndarray()
        ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError("OpenCV could not encode the thumbnail")
        jpeg = encoded.tobytes()
        if self.thumbnail_dir is not None:
            self._write_atomically(self.thumbnail_dir / f"{self.camera_id}.jpg", jpeg)
        with self._lock:
            self._latest_jpeg, self._latest_at = jpeg, at
            self.thumbnails += 1
        self.sink.emit(THUMBNAIL_EVENT, self._base_payload() | {"at": utc_iso(at)}, room=self.centre)

    @staticmethod
    def _analysis_frame(frame: av.VideoFrame, width: int) -> np.ndarray:
        width = min(width, frame.width)
        height = max(1, round(frame.height * width / frame.width))
        return _scalers.grey.reformat(
            frame, width=width, height=height, format="gray8", interpolation="AREA", threads=1
        ).to_ndarray()

    @staticmethod
    def _write_atomically(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    # --- alarms ----------------------------------------------------------------------------------

    def _base_payload(self) -> dict:
        return {"camera_id": self.camera_id, "centre": self.centre}

    def _record_alarm(self, change: AlarmChange) -> None:
        with self._lock:
            if change.active:
                entry = self._base_payload() | {
                    "kind": change.kind,
                    "active": True,
                    "start": utc_iso(change.at),
                    "end": None,
                    "detail": change.detail,
                }
                self._active_alarms[change.kind] = entry
                self._alarm_log.append(entry)
                del self._alarm_log[:-ALARM_LOG_LENGTH]
            else:
                entry = self._active_alarms.pop(change.kind, None)
                if entry is None:
                    return
                entry.update(active=False, end=utc_iso(change.at))  # detail keeps why it was raised
            payload = dict(entry)
        log.info("%s alarm %s %s", self.camera_id, change.kind, "raised" if change.active else "cleared")
        self.sink.emit(ALARM_EVENT, payload, room=self.centre)

    # --- what others read ------------------------------------------------------------------------

    @property
    def latest_jpeg(self) -> bytes | None:
        return self._latest_jpeg

    @property
    def latest_at(self) -> float | None:
        return self._latest_at

    @property
    def active_alarms(self) -> dict[str, dict]:
        with self._lock:
            return {kind: dict(entry) for kind, entry in self._active_alarms.items()}

    @property
    def alarm_log(self) -> list[dict]:
        with self._lock:
            return [dict(entry) for entry in self._alarm_log]
