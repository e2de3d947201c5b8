"""Look at a stream once: codec, size, rates, keyframe spacing, time to the first keyframe.

One attempt, no retry: a failure is a :class:`~watchwall.video.ingest.stream_errors.StreamFailure`
whose kind says what is wrong (auth, not_found, unreachable, protocol ...).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from watchwall.video.codec.bitstream import is_annexb, is_malformed
from watchwall.video.ingest.health import CameraHealth
from watchwall.video.ingest.packet import MediaPacket
from watchwall.video.ingest.reader import ReaderOptions, open_stream
from watchwall.video.ingest.source_url import StreamSource
from watchwall.video.ingest.stream_errors import StreamFailure, classify, describe


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

    def as_dict(self) -> dict:
        return asdict(self)


def probe(source: StreamSource, seconds: float = 5.0, options: ReaderOptions | None = None) -> ProbeResult:
    """Read ``seconds`` of the stream (of media time, for a file) and measure it."""
    options = options or ReaderOptions()
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
    snapshot = health.snapshot()
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
        open_s=round(opened - started, 3),
        time_to_first_keyframe_s=snapshot.time_to_first_keyframe_s,
        seconds=round(time.monotonic() - opened, 3),
        packets=snapshot.packets,
        keyframes=snapshot.keyframes,
        malformed_packets=snapshot.malformed_packets,
    )
