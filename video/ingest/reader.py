"""The supervised reader of one camera: PyAV demux on its own thread, never a decode.

It opens the camera (RTSP over TCP, or a file read in real time and looped),
publishes every packet to the camera's :class:`~watchwall.video.ingest.fanout.Fanout`, keeps the
camera's :class:`~watchwall.video.ingest.health.CameraHealth` up to date, and when the stream
fails it reconnects with capped exponential backoff and jitter, forever, until
stopped.

Why a watchdog outside the read: with PyAV 18 a read blocks in FFmpeg until
PyAV's own interrupt timeout, and that timeout is counted from the start of
each ``av_read_frame``; on a stalled RTSP stream FFmpeg first hands over the
frame it was holding back and only the next read times out, so the error
comes after about twice the read timeout. So the supervisor calls
:meth:`CameraReader.check_watchdog` to declare a camera stalled after
``stall_after_s`` seconds without a packet, while the read timeout (PyAV's
``timeout=(open, read)``) is what eventually breaks the connection so the
reader can reconnect. ``stop()`` cannot interrupt a blocked read either: the
thread stops publishing at once and leaves within the read timeout.
"""

from __future__ import annotations

import errno
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

import av

from watchwall.video.codec.bitstream import is_malformed
from watchwall.video.codec.nal import is_annexb
from watchwall.video.codec.parameter_sets import sequence_parameters
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.health import CONNECTING, ERROR, OFFLINE, ONLINE, STALLED, STOPPED, CameraHealth
from watchwall.video.ingest.packet import MediaPacket, StreamInfo
from watchwall.video.ingest.source_url import THOROUGH_PROBE
from watchwall.video.ingest.stream_errors import (
    PERSISTENT_KINDS,
    PROTOCOL,
    UNREACHABLE,
    UNSUPPORTED_CODEC,
    StreamFailure,
    classify,
    describe,
)
from watchwall.video.ingest.stream_source import StreamSource
from watchwall.video.record.segments import annexb_parameter_sets
from watchwall.video.rtsp.depacketize import AccessUnit
from watchwall.video.rtsp.loop import RtspLoop
from watchwall.video.rtsp.sdp import NotDepacketised
from watchwall.video.rtsp.session import AUTO, TCP, UDP, RtspSession, TransportRefused

log = logging.getLogger(__name__)

StateListener = Callable[[str, str, str | None, str | None], None]  # camera_id, state, error kind, detail

# Drift allowed between a packet's timestamp-derived time and its arrival before re-anchoring:
# behind covers a frame held back through a stall; ahead is never legitimate.
MAX_LAG_S = 15.0
MAX_LEAD_S = 1.0
MAX_PACE_BEHIND_S = 1.0  # a paced file that fell further behind than this restarts its pace
NATIVE, FFMPEG = "native", "ffmpeg"  # the two paths that read a camera (health "path")
MAX_HOLD_S = 2.5  # the longest first GOP held back to see whether the camera sends B-frames
NO_B_FRAMES = frozenset({"Baseline", "Constrained Baseline"})  # H.264 profiles without B slices


def without_b_frames(info: StreamInfo) -> bool:
    """Known from the SPS alone to carry no B-frames: H.264 Baseline (ITU-T H.264 A.2.1)."""
    return info.codec == "h264" and info.profile in NO_B_FRAMES


def refused_transport(exc: BaseException) -> bool:
    """FFmpeg's open failed because the server refused the transport asked for (461, or 400)."""
    if isinstance(exc, av.error.HTTPBadRequestError):
        return True
    return isinstance(exc, OSError) and exc.errno == errno.EPROTONOSUPPORT


@dataclass(frozen=True)
class ReaderOptions:
    stall_after_s: float = 2.0
    open_timeout_s: float = 5.0
    read_timeout_s: float = 2.5
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 0.5  # short: a camera must be back within ~2 s of its return
    persistent_backoff_initial_s: float = 1.0
    persistent_backoff_max_s: float = 15.0  # bad password, wrong path: retry, but slowly
    jitter: float = 0.2
    native_rtsp: bool = True  # rtsp:// through video.rtsp (one loop for all cameras); False: FFmpeg

    def _schedule(self, kind: str | None) -> tuple[float, float]:
        if kind in PERSISTENT_KINDS:
            return self.persistent_backoff_initial_s, self.persistent_backoff_max_s
        return self.backoff_initial_s, self.backoff_max_s

    def backoff(self, failures: int, kind: str | None, rng: random.Random) -> float:
        initial, cap = self._schedule(kind)
        delay = min(cap, initial * 2 ** max(0, failures - 1))
        return delay * rng.uniform(1 - self.jitter, 1 + self.jitter)

    def backoff_reason(self, failures: int, kind: str | None) -> str:
        """Why the reader waits as long as it does, for the health JSON."""
        initial, cap = self._schedule(kind)
        what = f"{kind} error" if kind else "stream ended"
        if kind in PERSISTENT_KINDS:
            how = "persists until something changes: retrying slowly"
        else:
            how = "may pass at any moment: retrying quickly"
        return (
            f"{what} {how}, {failures} failure(s) in a row; waits double from {initial:g} s "
            f"up to {cap:g} s, ±{self.jitter:.0%} jitter"
        )


def stream_info(stream: av.video.stream.VideoStream) -> StreamInfo:
    context = stream.codec_context
    return StreamInfo(
        codec=context.name,
        width=context.width,
        height=context.height,
        time_base=stream.time_base or Fraction(1, 90000),
        extradata=bytes(context.extradata) if context.extradata else None,
        profile=context.profile,
        pix_fmt=context.pix_fmt,
        average_rate=stream.average_rate,
    )


def open_stream(source: StreamSource, options: ReaderOptions):
    """Open ``source``; return (container, video stream, StreamInfo) or raise a classifiable error."""
    container, stream = _open(source, source.options, options)
    if not stream.codec_context.width and source.is_network:
        # The fast open did not see the picture size (no parameter sets in the SDP): look longer.
        container.close()
        container, stream = _open(source, {**source.options, **THOROUGH_PROBE}, options)
    if not stream.codec_context.width:
        container.close()
        raise StreamFailure(
            UNSUPPORTED_CODEC, f"{source.display}: no picture size in the {stream.codec_context.name} stream"
        )
    return container, stream, stream_info(stream)


def _open(source: StreamSource, av_options: dict[str, str], options: ReaderOptions):
    timeout = (options.open_timeout_s, options.read_timeout_s) if source.is_network else None
    started = time.monotonic()
    try:
        container = av.open(source.url, options=dict(av_options), timeout=timeout)
    except Exception as exc:
        # When PyAV's open timeout interrupts FFmpeg waiting for an RTSP answer, FFmpeg reports
        # "invalid data" (no status line came); it is a timeout, the server is not answering.
        if timeout and time.monotonic() - started >= 0.9 * options.open_timeout_s:
            raise StreamFailure(
                UNREACHABLE, f"{source.display}: no answer within {options.open_timeout_s:g} s"
            ) from exc
        raise
    if not container.streams.video:
        container.close()
        raise StreamFailure(UNSUPPORTED_CODEC, f"{source.display}: no video stream")
    stream = container.streams.video[0]
    if not stream.codec_context.name:
        container.close()
        raise StreamFailure(UNSUPPORTED_CODEC, f"{source.display}: video codec not recognised")
    return container, stream


class BFramesSeen(StreamFailure):
    """RTP presentation times out of order: the camera sends B-frames, whose decode order only
    a parser (FFmpeg's) works out. The reader switches the camera over without an outage."""


class PacketClock:
    """Dates packets by their timestamps: anchored on arrival of the first, re-anchored on drift."""

    def __init__(self) -> None:
        self.anchor: tuple[float, float] | None = None  # (wallclock, media seconds)

    def date(self, media_s: float | None, arrival_wallclock: float) -> float:
        if media_s is None:
            return arrival_wallclock
        if self.anchor is not None:
            wallclock = self.anchor[0] + (media_s - self.anchor[1])
            if arrival_wallclock - MAX_LAG_S <= wallclock <= arrival_wallclock + MAX_LEAD_S:
                return wallclock
        self.anchor = (arrival_wallclock, media_s)
        return arrival_wallclock


class CameraReader:
    def __init__(
        self,
        camera_id: str,
        source: StreamSource | Callable[[], StreamSource],
        fanout: Fanout,
        health: CameraHealth,
        options: ReaderOptions | None = None,
        on_state: StateListener | None = None,
    ) -> None:
        self.camera_id = camera_id
        self._source = source if callable(source) else (lambda: source)
        self.fanout = fanout
        self.health = health
        self.options = options or ReaderOptions(stall_after_s=health.stall_after_s)
        self.on_state = on_state
        self._stop = threading.Event()
        self._state_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._sequence = 0
        self._held: MediaPacket | None = None  # the last packet, until we know its frame is complete
        self._delivered = False
        self._rng = random.Random()
        self._native = True  # until a camera's codec turns out not to be depacketised natively
        self._session_over = threading.Event()
        self._first_keyframe = False
        self._learned_transport: str | None = None  # under "auto": the transport the camera took
        # Parameter sets whose first GOP came in presentation order: a reconnect with the same ones
        # is not held again (a camera that turns B-frames on changes its SPS).
        self._in_order_parameters: bytes | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"reader-{self.camera_id}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()
        self._session_over.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True once it has ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self, timeout: float = 1.0) -> bool:
        self.request_stop()
        return self.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # --- state ---------------------------------------------------------------------------------

    def _set_state(
        self, state: str, kind: str | None = None, detail: str | None = None, only_from=None
    ) -> None:
        with self._state_lock:
            if only_from is not None and self.health.state not in only_from:
                return
            changed = self.health.set_state(state, kind, detail)
        if changed:
            log.info("camera %s: %s%s", self.camera_id, state, f" ({kind}: {detail})" if kind else "")
            if self.on_state is not None:
                try:
                    self.on_state(self.camera_id, state, kind, detail)
                except Exception:  # a broken listener must not stop the camera
                    log.exception("camera %s: state listener failed", self.camera_id)

    def check_watchdog(self, now: float | None = None) -> None:
        """Declare the camera stalled when no packet has arrived for ``stall_after_s``."""
        silent = self.health.silent_for(now)
        if silent is not None and silent > self.options.stall_after_s:
            self._set_state(STALLED, None, f"no packet for {silent:.1f} s", only_from=(ONLINE,))

    # --- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        self._set_state(CONNECTING)
        first = True
        while not self._stop.is_set():
            kind = detail = None
            source: StreamSource | None = None
            self._delivered = False
            try:
                source = self._source()
                if first:  # silence counts from here: making a demo clip the first time is no outage
                    self.health.begin()
                    first = False
                self.health.connection_attempt()
                self._session(source)
                if self._stop.is_set():
                    break
                if not source.loop and not source.is_network:
                    self._set_state(STOPPED, None, "end of file")
                    return
                kind, detail = UNREACHABLE, f"{source.display}: stream ended"
            except Exception as exc:
                if self._stop.is_set():
                    break
                kind = classify(exc)
                detail = describe(exc, source.display if source else self.camera_id)
            finally:
                if source is not None:
                    source.release()  # each connection gets a new source
            failures = 1 if self._delivered else failures + 1
            if self._delivered and kind == UNREACHABLE and self.health.state == STALLED:
                # The read timed out on a connection that had gone silent: still a stall, not an outage.
                self._set_state(STALLED, None, f"no packets; reconnecting ({detail})")
            else:
                self._set_state(OFFLINE if kind == UNREACHABLE else ERROR, kind, detail)
            delay = self.options.backoff(failures, kind, self._rng)
            self.health.retrying(delay, failures, self.options.backoff_reason(failures, kind))
            self._stop.wait(delay)
        self._set_state(STOPPED)

    @property
    def path(self) -> str | None:
        return self.health.path

    @property
    def transport(self) -> str | None:
        return self.health.transport

    def _session(self, source: StreamSource) -> None:
        """One connection, until it ends or fails; sets ``_delivered`` once a packet went out."""
        if self._native and self.options.native_rtsp and source.url[:7].lower() == "rtsp://":
            try:
                return self._native_session(source)
            except (NotDepacketised, BFramesSeen) as exc:
                log.info("camera %s: %s; reading it through FFmpeg", self.camera_id, exc.detail)
                self._native = False
        return self._ffmpeg_session(source)

    def _transport_to_try(self, source: StreamSource) -> str:
        if source.transport == AUTO and self._learned_transport is not None:
            return self._learned_transport
        return source.transport

    def _open_ffmpeg(self, source: StreamSource):
        """FFmpeg's open over the camera's transport; under ``auto``, TCP first, then UDP when the
        camera refuses TCP (FFmpeg reports a 461 as "protocol not supported", a 400 as bad request)."""
        if not source.is_network:
            self.health.set_route(FFMPEG, None)
            return open_stream(source, self.options)
        wanted = self._transport_to_try(source)
        order = (TCP, UDP) if wanted == AUTO else (wanted,)
        for lower in order:
            try:
                opened = open_stream(
                    replace(source, options={**source.options, "rtsp_transport": lower}), self.options
                )
            except Exception as exc:
                refused = refused_transport(exc)
                if refused and lower != order[-1]:
                    # TCP refused: the next attempt starts with UDP, whatever becomes of this one (a
                    # server still tearing down the media of the refused SETUP may answer 503 now)
                    self._learned_transport = order[-1]
                    log.info(
                        "camera %s: RTP over %s refused through FFmpeg; trying %s",
                        self.camera_id,
                        lower,
                        order[-1],
                    )
                    continue
                if refused:
                    self._learned_transport = None  # under auto, the next attempt tries both again
                raise
            if source.transport == AUTO:
                self._learned_transport = lower
            self.health.set_route(FFMPEG, lower)
            return opened
        raise AssertionError("unreachable")

    def _ffmpeg_session(self, source: StreamSource) -> None:
        started = time.monotonic()
        container, stream, info = self._open_ffmpeg(source)
        self.health.reset_rates()
        annexb = info.extradata is None or is_annexb(info.extradata)
        try:
            clock = PacketClock()
            time_base = float(info.time_base)
            offset = 0  # added to a looped file's timestamps, so they keep increasing across loops
            self._first_keyframe = False
            pace: tuple[float, float] | None = None  # (monotonic, media seconds) for real-time files
            while True:
                first_ts = last_end = None
                for packet in container.demux(stream):
                    if self._stop.is_set():
                        return
                    if packet.size == 0:  # the demuxer's end-of-stream flush
                        continue
                    ts = packet.dts if packet.dts is not None else packet.pts
                    media_s = None if ts is None else (ts + offset) * time_base
                    if ts is not None:
                        first_ts = ts if first_ts is None else first_ts
                        last_end = ts + (packet.duration or 0)
                    if source.realtime and media_s is not None:
                        due = None if pace is None else pace[0] + (media_s - pace[1])
                        if due is None or due < time.monotonic() - MAX_PACE_BEHIND_S:
                            pace = (
                                time.monotonic(),
                                media_s,
                            )  # start, or resume after a pause without a burst
                            due = pace[0]
                        if self._stop.wait(max(0.0, due - time.monotonic())):
                            return
                    arrival, arrival_wall = time.monotonic(), time.time()
                    # A paced file is sent on time, so it is dated on arrival; a camera by its timestamps.
                    wallclock = arrival_wall if source.realtime else clock.date(media_s, arrival_wall)
                    media = self._publish(packet, info, offset, wallclock, arrival)
                    self._counted(media, media_s, annexb, started, arrival_wall)
                if not source.loop or first_ts is None:
                    return
                offset += last_end - first_ts
                container.seek(0)
        finally:
            if self._stop.is_set():
                self._held = None  # stopped: nothing more goes out
            else:
                self._flush_held()  # the last frame of a connection is complete as it is
            container.close()

    def _counted(
        self,
        media: MediaPacket,
        media_s: float | None,
        annexb: bool,
        started: float,
        arrival_wall: float,
        malformed: bool | None = None,
    ) -> None:
        """Health, first keyframe and the online state, for a packet that went out; ``malformed``
        when the caller already checked the NAL headers."""
        if malformed is None:
            malformed = media.is_corrupt or is_malformed(media.data, media.stream.codec, annexb)
        self.health.packet(media, media_s, malformed)
        self._delivered = True
        if media.is_keyframe and not self._first_keyframe:
            self._first_keyframe = True
            self.health.first_keyframe_after(round(media.arrival - started, 3))
        # A stalled stream first releases the frame it held back, dated before the stall:
        # that one is no sign of life.
        if self.health.state != ONLINE and arrival_wall - media.wallclock < self.options.stall_after_s:
            self._set_state(ONLINE)

    # --- rtsp:// through video.rtsp ------------------------------------------------------------

    def _native_session(self, source: StreamSource) -> None:
        started = time.monotonic()
        session = RtspSession(
            source.url,
            source.display,
            self.options.open_timeout_s,
            self._stop,
            self._transport_to_try(source),
        )
        try:
            try:
                media = session.open()
            except TransportRefused:
                self._learned_transport = None  # under auto, the next attempt tries both again
                raise
            if self._stop.is_set():
                return
            if source.transport == AUTO:
                self._learned_transport = session.transport
            self.health.set_route(NATIVE, session.transport)
            self.health.reset_rates()
            self._first_keyframe = False
            stream = _NativeStream(self, media.codec, media.clock_rate, media.parameter_sets, started)
            failures: list[BaseException] = []
            self._session_over.clear()

            def failed(exc: BaseException) -> None:
                failures.append(exc)
                self._session_over.set()

            loop = RtspLoop.shared()
            attachment = loop.attach(session, stream.deliver, failed, self.options.read_timeout_s)
            try:
                if not self._stop.is_set():
                    self._session_over.wait()
            finally:
                loop.detach(attachment)
            if failures and not self._stop.is_set():
                raise failures[0]
        finally:
            session.close()

    def _publish(
        self, packet, info: StreamInfo, offset: int, wallclock: float, arrival: float
    ) -> MediaPacket:
        media = MediaPacket(
            camera_id=self.camera_id,
            data=bytes(packet),
            pts=None if packet.pts is None else packet.pts + offset,
            dts=None if packet.dts is None else packet.dts + offset,
            duration=packet.duration,
            is_keyframe=packet.is_keyframe,
            is_corrupt=packet.is_corrupt,
            stream=info,
            arrival=arrival,
            wallclock=wallclock,
        )
        self._assemble(media)
        return media

    def _assemble(self, media: MediaPacket) -> None:
        """Publish whole frames: FFmpeg's RTSP demuxer may hand one picture over as several
        packets with the same timestamps (a multi-slice IDR), which recorders, the live view
        and the keyframe decoder must all see as one. A frame leaves when the next one starts."""
        held = self._held
        if held is not None and media.dts is not None and (media.dts, media.pts) == (held.dts, held.pts):
            self._held = replace(
                held,
                data=held.data + media.data,
                is_keyframe=held.is_keyframe or media.is_keyframe,
                is_corrupt=held.is_corrupt or media.is_corrupt,
                duration=held.duration or media.duration,
            )
            return
        self._flush_held()
        self._held = media

    def _flush_held(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self.fanout.publish(replace(held, sequence=self._sequence))
            self._sequence += 1


class _NativeStream:
    """The reader's side of one native RTSP session: access units -> published packets.

    Called on the RTSP loop's thread. Units before the first sequence parameter set are
    dropped: nothing can decode them, and their size is not known yet.

    B-frames are decided before anything is published, so that a camera that needs FFmpeg
    leaves neither a short segment nor a hole in the recording: an H.264 Baseline SPS has
    none; any other stream's first GOP is held until it shows whether pictures arrive out of
    presentation order (then the reader switches to FFmpeg with nothing sent). The hold costs
    up to a GOP of first-picture delay once per reader: reconnections with the same
    parameter sets are not held again.
    """

    def __init__(
        self, reader: CameraReader, codec: str, clock_rate: int, parameter_sets: bytes | None, started: float
    ) -> None:
        self.reader = reader
        self.codec = codec
        self.time_base = Fraction(1, clock_rate)
        self.seconds_per_tick = 1 / clock_rate
        self.parameter_sets = parameter_sets
        self.started = started
        self.clock = PacketClock()
        self.info: StreamInfo | None = None
        self.dropped_before_parameters = 0
        self.last_timestamp: int | None = None
        self.published_timestamp: int | None = None
        self.interval: int | None = None
        self.max_interval = clock_rate  # a longer step is a pause, not a frame rate
        # The first GOP, held until it is known whether the camera sends B-frames (None: known).
        self.held: list[tuple[AccessUnit, float, float]] | None = None
        self._learn()

    def _learn(self) -> None:
        """The stream's parameters, once ``parameter_sets`` holds a readable SPS."""
        parameters = sequence_parameters(self.parameter_sets, self.codec)
        if parameters is not None:
            self.info = StreamInfo(
                codec=self.codec,
                width=parameters.width,
                height=parameters.height,
                time_base=self.time_base,
                extradata=self.parameter_sets or None,
                profile=parameters.profile,
                pix_fmt=parameters.pix_fmt,
            )
            known = (
                self.parameter_sets is not None and self.parameter_sets == self.reader._in_order_parameters
            )
            self.held = None if known or without_b_frames(self.info) else []

    def deliver(self, units: list[AccessUnit], now: float) -> None:
        reader = self.reader
        if reader._stop.is_set():
            return
        arrival_wall = time.time()
        ready: list[tuple[MediaPacket, float, float]] = []  # (packet, media seconds, arrival), in order
        try:
            for unit in units:
                if self.info is None:
                    self.parameter_sets = annexb_parameter_sets(unit.data, self.codec) or self.parameter_sets
                    self._learn()
                    if self.info is None:
                        self.dropped_before_parameters += 1
                        continue
                if (
                    self.last_timestamp is not None
                    and 0 < self.last_timestamp - unit.timestamp <= self.max_interval
                ):
                    # Pictures out of presentation order: B-frames. RTP carries presentation times only;
                    # FFmpeg's parser works out the decode order, so this camera is read through it.
                    # While the first GOP is held nothing has gone out yet: the switch leaves no trace.
                    self.held = None
                    raise BFramesSeen(PROTOCOL, "pictures arrive out of order (B-frames)")
                self.last_timestamp = unit.timestamp
                if self.held is None:
                    ready.append(self._packet(unit, now, arrival_wall))
                else:
                    self._hold(unit, now, arrival_wall, ready)
        finally:
            if ready:  # what came before a failure goes out all the same
                self._send(ready)

    def _hold(
        self, unit: AccessUnit, now: float, arrival_wall: float, ready: list[tuple[MediaPacket, float, float]]
    ) -> None:
        """Keep the first GOP back until it shows whether pictures come out of order: up to the
        next keyframe, at most ``MAX_HOLD_S`` of media. Then it goes out as it came, dated by arrival."""
        held = self.held
        held.append((unit, now, arrival_wall))
        keyframes = sum(1 for item in held if item[0].keyframe)
        span = unit.timestamp - held[0][0].timestamp
        if (unit.keyframe and keyframes >= 2) or span >= MAX_HOLD_S / self.seconds_per_tick:
            self.held = None
            self.reader._in_order_parameters = self.parameter_sets
            for item in held:
                ready.append(self._packet(*item))

    def _packet(self, unit: AccessUnit, now: float, arrival_wall: float) -> tuple[MediaPacket, float, float]:
        reader = self.reader
        media_s = unit.timestamp * self.seconds_per_tick
        if (
            self.published_timestamp is not None
            and 0 < unit.timestamp - self.published_timestamp <= self.max_interval
        ):
            self.interval = unit.timestamp - self.published_timestamp
        self.published_timestamp = unit.timestamp
        media = MediaPacket.every_field(
            camera_id=reader.camera_id,
            data=unit.data,
            pts=unit.timestamp,
            dts=unit.timestamp,
            duration=self.interval,  # the last frame interval: RTP tells a frame's length only with the next
            is_keyframe=unit.keyframe,
            is_corrupt=unit.corrupt,
            stream=self.info,
            arrival=now,
            wallclock=self.clock.date(media_s, arrival_wall),
            sequence=reader._sequence,
            nal_units=unit.units,
        )
        reader._sequence += 1
        return media, media_s, arrival_wall

    def _send(self, ready: list[tuple[MediaPacket, float, float]]) -> None:
        """Publish a drain's packets in one hand-over, then count them."""
        reader = self.reader
        reader.fanout.publish_many([media for media, _, _ in ready])
        if not reader._first_keyframe or reader.health.state != ONLINE:  # a session's start: one by one
            for media, media_s, arrival_wall in ready:
                reader._counted(media, media_s, True, self.started, arrival_wall, malformed=media.is_corrupt)
            return
        # Online, first keyframe seen: what _counted does comes down to the health's counts, here
        # under one lock for the drain (the depacketiser checked the NAL headers: malformed is corrupt).
        reader.health.count_packets([(media, media_s, media.is_corrupt) for media, media_s, _ in ready])
        reader._delivered = True
        if reader.health.state != ONLINE:  # the watchdog declared a stall meanwhile
            for media, _, arrival_wall in ready:
                if arrival_wall - media.wallclock < reader.options.stall_after_s:
                    reader._set_state(ONLINE)
                    break
