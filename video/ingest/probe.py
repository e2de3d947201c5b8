"""Look at a stream once: codec, size, rates, keyframe spacing, time to the first keyframe.

A camera (rtsp://) is read by the ingest's own :class:`~watchwall.video.ingest.reader.CameraReader`,
so the probe takes the path the ingest would (the native RTSP client, or FFmpeg for what it does
not unpack) over the transport the ingest would, and says which. A file is demuxed as fast as it
reads. One attempt, no retry: a failure is a
:class:`~watchwall.video.ingest.stream_errors.StreamFailure` whose kind says what is wrong
(auth, not_found, unreachable, protocol ...).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

from watchwall.video.codec.bitstream import is_malformed
from watchwall.video.codec.nal import is_annexb
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.health import ERROR, OFFLINE, CameraHealth, HealthSnapshot
from watchwall.video.ingest.packet import MediaPacket, StreamInfo
from watchwall.video.ingest.reader import FFMPEG, CameraReader, ReaderOptions, open_stream
from watchwall.video.ingest.stream_errors import UNREACHABLE, StreamFailure, classify, describe
from watchwall.video.ingest.stream_source import StreamSource

FIRST_PACKET_GRACE_S = 5.0  # after the open timeout: a B-frame camera reconnects through FFmpeg


@dataclass
class ProbeResult:
    url: str
    codec: str
    profile: str | None
    width: int
    height: int
    browser_playable: bool
    fps: float | None
    bitrate_bps: float | None
    keyframe_interval_s: float | None
    keyframe_interval_frames: int | None
    open_s: float
    time_to_first_keyframe_s: float | None
    seconds: float
    packets: int
    keyframes: int
    malformed_packets: int
    path: str | None = None  # "native" (video.rtsp) or "ffmpeg", as the ingest reads it
    transport: str | None = None  # "tcp" or "udp"; None for a file

    def as_dict(self) -> dict:
        return asdict(self)


def probe(source: StreamSource, seconds: float = 5.0, options: ReaderOptions | None = None) -> ProbeResult:
    """Read ``seconds`` of the stream (of media time, for a file) and measure it."""
    options = options or ReaderOptions()
    if source.is_network:
        return _probe_camera(source, seconds, options)
    return _probe_file(source, seconds, options)


def _probe_camera(source: StreamSource, seconds: float, options: ReaderOptions) -> ProbeResult:
    """Run the ingest's reader on the camera until ``seconds`` after its first packet."""
    fanout, health = Fanout("probe"), CameraHealth("probe", stall_after_s=options.stall_after_s)
    first = fanout.subscribe("probe", maxsize=4)  # only to learn when the first packet went out
    failures: list[StreamFailure] = []
    done = threading.Event()

    def on_state(_camera: str, state: str, kind: str | None, detail: str | None) -> None:
        if state in (ERROR, OFFLINE) and kind is not None:
            failures.append(StreamFailure(kind, detail or source.display))
            done.set()

    reader = CameraReader("probe", source, fanout, health, options, on_state=on_state)
    started = time.monotonic()
    reader.start()
    try:
        deadline = started + options.open_timeout_s + FIRST_PACKET_GRACE_S
        packet = None
        while packet is None and not done.is_set() and time.monotonic() < deadline:
            packet = first.get(timeout=0.1)
        if packet is None:
            if failures:
                raise failures[0]
            raise StreamFailure(UNREACHABLE, f"{source.display}: no packet within {deadline - started:.0f} s")
        opened = time.monotonic()
        first.close()
        done.wait(seconds)
    finally:
        reader.stop(timeout=options.read_timeout_s + 1)
    if failures and health.packets == 0:
        raise failures[0]
    return _result(source, health.snapshot(), packet.stream, opened - started, time.monotonic() - opened)


def _result(
    source: StreamSource, snapshot: HealthSnapshot, info: StreamInfo, open_s: float, seconds: float
) -> ProbeResult:
    return ProbeResult(
        url=source.display,
        codec=info.codec,
        profile=info.profile,
        width=info.width,
        height=info.height,
        browser_playable=info.browser_playable,
        fps=snapshot.fps,
        bitrate_bps=snapshot.bitrate_bps,
        keyframe_interval_s=snapshot.keyframe_interval_s,
        keyframe_interval_frames=snapshot.keyframe_interval_frames,
        open_s=round(open_s, 3),
        time_to_first_keyframe_s=snapshot.time_to_first_keyframe_s,
        seconds=round(seconds, 3),
        packets=snapshot.packets,
        keyframes=snapshot.keyframes,
        malformed_packets=snapshot.malformed_packets,
        path=snapshot.path,
        transport=snapshot.transport,
    )


def _probe_file(source: StreamSource, seconds: float, options: ReaderOptions) -> ProbeResult:
    started = time.monotonic()
    try:
        container, stream, info = open_stream(source, options)
    except Exception as exc:
        raise StreamFailure(classify(exc), describe(exc, source.display)) from exc
    opened = time.monotonic()
    health = CameraHealth("probe", stall_after_s=options.stall_after_s)
    annexb = info.extradata is None or is_annexb(info.extradata)
    time_base = float(info.time_base)
    first_media_s = None
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            now = time.monotonic()
            ts = packet.dts if packet.dts is not None else packet.pts
            media_s = None if ts is None else ts * time_base
            data = bytes(packet)
            media = MediaPacket(
                "probe", data, packet.pts, packet.dts, packet.duration, packet.is_keyframe,
                packet.is_corrupt, info, now, time.time(),
            )  # fmt: skip
            health.packet(media, media_s, is_malformed(data, info.codec, annexb))
            if packet.is_keyframe and health.time_to_first_keyframe_s is None:
                health.first_keyframe_after(round(now - started, 3))
            first_media_s = media_s if first_media_s is None else first_media_s
            media_elapsed = 0.0 if media_s is None else media_s - first_media_s
            if now - opened >= seconds or media_elapsed >= seconds:
                break
    except Exception as exc:
        if health.packets == 0:
            raise StreamFailure(classify(exc), describe(exc, source.display)) from exc
    finally:
        container.close()
    health.set_route(FFMPEG, None)
    return _result(source, health.snapshot(), info, opened - started, time.monotonic() - opened)
