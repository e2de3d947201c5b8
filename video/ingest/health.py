"""Live health of one camera's stream: state, rates, keyframe spacing, gaps.

Updated by the camera's reader thread, read by anyone through :meth:`CameraHealth.snapshot`.
Rates are measured over the packets of the last few seconds, by their timestamps.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from watchwall.config.timestamps import optional_utc_iso, utc_iso
from watchwall.video.ingest.packet import MediaPacket, StreamInfo

CONNECTING = "connecting"
ONLINE = "online"
STALLED = "stalled"
OFFLINE = "offline"
ERROR = "error"
STOPPED = "stopped"
STATES = (CONNECTING, ONLINE, STALLED, OFFLINE, ERROR, STOPPED)

RATE_WINDOW_S = 3.0
MAX_GAPS_KEPT = 200


@dataclass
class HealthSnapshot:
    camera_id: str
    centre: str | None
    state: str
    error_kind: str | None
    detail: str | None
    state_since: str | None
    codec: str | None = None
    profile: str | None = None
    width: int | None = None
    height: int | None = None
    browser_playable: bool | None = None
    fps: float | None = None
    bitrate_bps: float | None = None
    keyframe_interval_s: float | None = None
    keyframe_interval_frames: int | None = None
    time_to_first_keyframe_s: float | None = None
    last_packet_age_s: float | None = None
    packets: int = 0
    keyframes: int = 0
    bytes: int = 0
    corrupt_packets: int = 0
    malformed_packets: int = 0
    attempts: int = 0
    reconnects: int = 0
    errors: int = 0
    gaps: list[dict] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    path: str | None = None  # who reads the camera: "native" (video.rtsp) or "ffmpeg" (PyAV)
    transport: str | None = None  # how RTP comes: "tcp" (interleaved) or "udp"; None for a file
    retry: dict | None = None  # while waiting to reconnect: when, after how many failures, and why so long
    recorder: str | None = None  # the recorder's state, when the camera is recorded
    last_packet_at: str | None = None  # UTC time of the newest packet (by its timestamp), None before one

    # the camera's streams ("main", and "sub" when it has one), each summarised
    # (video.ingest.stream_pair.stream_summary); the fields above are the main stream's
    streams: dict[str, dict] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """What ``dataclasses.asdict`` gives (every container copied), at a tenth of its cost: the
        node publishes every camera's snapshot every 2 s, and asdict deep-copies field by field."""
        values = dict(self.__dict__)
        values["gaps"] = [dict(gap) for gap in self.gaps]
        values["dropped"] = dict(self.dropped)
        values["retry"] = None if self.retry is None else dict(self.retry)
        values["streams"] = {name: dict(summary) for name, summary in self.streams.items()}
        return values


class CameraHealth:
    def __init__(self, camera_id: str, centre: str | None = None, stall_after_s: float = 2.0) -> None:
        self.camera_id = camera_id
        self.centre = centre
        self.stall_after_s = stall_after_s
        self._lock = threading.Lock()
        self.state = STOPPED  # until its reader starts
        self.error_kind: str | None = None
        self.detail: str | None = None
        self.state_since = time.time()
        self.stream: StreamInfo | None = None
        self.packets = 0
        self.keyframes = 0
        self.bytes = 0
        self.corrupt_packets = 0
        self.malformed_packets = 0  # broken NAL structure, seen without decoding (video.codec.bitstream)
        self.attempts = 0
        self.errors = 0
        self.time_to_first_keyframe_s: float | None = None
        self.last_arrival: float | None = None  # monotonic
        # Silence is measured from the start, so a camera that never comes up shows one open gap.
        self.last_wallclock = time.time()
        self._gaps: deque[tuple[float, float]] = deque(maxlen=MAX_GAPS_KEPT)
        self._recent: deque[tuple[float, int]] = deque()  # (timestamp seconds, size) of the rate window
        self._keyframe_times: deque[float] = deque(maxlen=2)
        self._frames_since_keyframe = 0
        self._last_frame_time: float | None = None
        self.keyframe_interval_frames: int | None = None
        self.path: str | None = None
        self.transport: str | None = None
        self.retry: dict | None = None

    # --- updates, from the reader thread ------------------------------------------------------

    def begin(self) -> None:
        """The reader starts: silence is counted from now."""
        with self._lock:
            self.last_wallclock = max(self.last_wallclock, time.time())

    def set_state(self, state: str, error_kind: str | None = None, detail: str | None = None) -> bool:
        """Record a state; True when it differs from the previous one (state or error kind)."""
        with self._lock:
            changed = (state, error_kind) != (self.state, self.error_kind)
            if changed:
                self.state_since = time.time()
            self.state, self.error_kind, self.detail = state, error_kind, detail
            if state == ERROR or (state == OFFLINE and error_kind):
                self.errors += changed
            return changed

    def connection_attempt(self) -> None:
        with self._lock:
            self.attempts += 1
            self.retry = None

    def set_route(self, path: str, transport: str | None) -> None:
        """Which reader path carries the stream now, and over which transport."""
        with self._lock:
            self.path, self.transport = path, transport

    def retrying(self, delay_s: float, failures: int, reason: str) -> None:
        """The reader waits ``delay_s`` before its next attempt; ``reason`` says why that long."""
        with self._lock:
            self.retry = {
                "in_s": round(delay_s, 2),
                "at": utc_iso(time.time() + delay_s),
                "failures": failures,
                "reason": reason,
            }

    def first_keyframe_after(self, seconds: float) -> None:
        with self._lock:
            self.time_to_first_keyframe_s = seconds

    def packet(self, packet: MediaPacket, media_time_s: float | None, malformed: bool = False) -> None:
        """Count a published packet; ``media_time_s`` is its decode timestamp in seconds, if any.

        Keyframes and frame rates count frames (distinct timestamps), not packets: an RTP
        depacketizer may hand one frame over in several packets.
        """
        self.count_packets(((packet, media_time_s, malformed),))

    def count_packets(self, packets: Iterable[tuple[MediaPacket, float | None, bool]]) -> None:
        """:meth:`packet` for each ``(packet, media_time_s, malformed)``, in order, under one lock:
        the RTSP loop counts a drain's packets at once. The counts live in locals through the loop
        (it runs for every frame of every camera)."""
        with self._lock:
            recent, keyframe_times, gaps = self._recent, self._keyframe_times, self._gaps
            stall_after_s = self.stall_after_s
            last_wallclock, last_frame_time = self.last_wallclock, self._last_frame_time
            frames_since_keyframe = self._frames_since_keyframe
            count = size_sum = corrupt = malformed_sum = 0
            packet = None
            for packet, media_time_s, malformed in packets:
                wallclock, size = packet.wallclock, len(packet.data)
                if wallclock - last_wallclock > stall_after_s:
                    gaps.append((last_wallclock, wallclock))
                if wallclock > last_wallclock:
                    last_wallclock = wallclock
                count += 1
                size_sum += size
                corrupt += packet.is_corrupt
                malformed_sum += malformed
                when = media_time_s if media_time_s is not None else packet.arrival
                new_frame = when != last_frame_time
                last_frame_time = when
                if new_frame:
                    if packet.is_keyframe:
                        self.keyframes += 1
                        if keyframe_times:
                            self.keyframe_interval_frames = frames_since_keyframe
                        keyframe_times.append(when)
                        frames_since_keyframe = 0
                    frames_since_keyframe += 1
                recent.append((when, size))
                while recent and (when - recent[0][0] > RATE_WINDOW_S or when < recent[0][0]):
                    recent.popleft()
            if packet is None:
                return
            self.last_wallclock, self._last_frame_time = last_wallclock, last_frame_time
            self._frames_since_keyframe = frames_since_keyframe
            self.last_arrival, self.stream = packet.arrival, packet.stream
            self.packets += count
            self.bytes += size_sum
            self.corrupt_packets += corrupt
            self.malformed_packets += malformed_sum

    def reset_rates(self) -> None:
        """Forget the rate window: a new connection or a loop restarts the timestamps."""
        with self._lock:
            self._recent.clear()
            self._keyframe_times.clear()
            self._last_frame_time = None
            self._frames_since_keyframe = 0

    # --- reading -------------------------------------------------------------------------------

    def silent_for(self, now: float | None = None) -> float | None:
        """Seconds since the last packet arrived (monotonic), None before the first one."""
        if self.last_arrival is None:
            return None
        return (time.monotonic() if now is None else now) - self.last_arrival

    def gaps(self, now_wallclock: float | None = None) -> list[dict]:
        """Closed gaps, and the one still open (``end`` None) if the camera is silent right now."""
        now_wallclock = time.time() if now_wallclock is None else now_wallclock
        with self._lock:
            gaps = [
                {"start": optional_utc_iso(start), "end": optional_utc_iso(end)} for start, end in self._gaps
            ]
            if now_wallclock - self.last_wallclock > self.stall_after_s and self.state != STOPPED:
                gaps.append({"start": optional_utc_iso(self.last_wallclock), "end": None})
        return gaps

    def gap_spans(self) -> list[tuple[float, float]]:
        with self._lock:
            return list(self._gaps)

    def _rates(self) -> tuple[float | None, float | None]:
        if len(self._recent) < 2:
            return None, None
        span = self._recent[-1][0] - self._recent[0][0]
        if span <= 0:
            return None, None
        frames = len({when for when, _ in self._recent}) - 1
        bits = 8 * sum(size for _, size in list(self._recent)[:-1])
        return frames / span, bits / span

    def snapshot(self, dropped: dict[str, int] | None = None) -> HealthSnapshot:
        gaps = self.gaps()
        with self._lock:
            fps, bitrate = self._rates()
            stream = self.stream
            interval = None
            if len(self._keyframe_times) == 2:
                interval = self._keyframe_times[1] - self._keyframe_times[0]
            age = None if self.last_arrival is None else time.monotonic() - self.last_arrival
            return HealthSnapshot(
                camera_id=self.camera_id,
                centre=self.centre,
                state=self.state,
                error_kind=self.error_kind,
                detail=self.detail,
                state_since=optional_utc_iso(self.state_since),
                codec=stream.codec if stream else None,
                profile=stream.profile if stream else None,
                width=stream.width if stream else None,
                height=stream.height if stream else None,
                browser_playable=stream.browser_playable if stream else None,
                fps=None if fps is None else round(fps, 2),
                bitrate_bps=None if bitrate is None else round(bitrate),
                keyframe_interval_s=None if interval is None else round(interval, 3),
                keyframe_interval_frames=self.keyframe_interval_frames,
                time_to_first_keyframe_s=self.time_to_first_keyframe_s,
                last_packet_age_s=None if age is None else round(age, 3),
                packets=self.packets,
                keyframes=self.keyframes,
                bytes=self.bytes,
                corrupt_packets=self.corrupt_packets,
                malformed_packets=self.malformed_packets,
                attempts=self.attempts,
                reconnects=max(0, self.attempts - 1),
                errors=self.errors,
                gaps=gaps,
                dropped=dict(dropped or {}),
                path=self.path,
                transport=self.transport,
                retry=None if self.retry is None else dict(self.retry),
                last_packet_at=optional_utc_iso(self.last_wallclock) if self.packets else None,
            )
