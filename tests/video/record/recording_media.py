"""Real H.264 test streams made with PyAV's libx264, and ways to publish them like a camera reader.

The clip is encoded into MPEG-TS and demuxed again, so packets and parameter
sets are Annex-B as they come from an RTSP camera.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache

import av
import numpy as np

from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.packet import MediaPacket, StreamInfo


@dataclass(frozen=True)
class RawPacket:
    data: bytes
    pts: int
    dts: int
    duration: int
    is_keyframe: bool


@lru_cache(maxsize=8)
def h264_clip(seconds: float, fps: int = 25, gop: int = 25, width: int = 320, height: int = 240):
    """(StreamInfo, packets) of a clip whose frame ``i`` shows grey level ``i % 200`` plus a moving bar."""
    frames = round(seconds * fps)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0",
        }
        for index in range(frames):
            picture = np.full((height, width, 3), index % 200, np.uint8)
            column = (index * 7) % (width - 16)
            picture[:, column : column + 16] = (255, 40, 40)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    source = av.open(io.BytesIO(buffer.getvalue()), format="mpegts")
    try:
        video = source.streams.video[0]
        context = video.codec_context
        info = StreamInfo(
            codec="h264",
            width=context.width,
            height=context.height,
            time_base=video.time_base,
            extradata=context.extradata,
            average_rate=Fraction(fps),
        )
        packets = tuple(
            RawPacket(bytes(p), p.pts, p.dts, p.duration or int(1 / (fps * video.time_base)), p.is_keyframe)
            for p in source.demux(video)
            if p.size
        )
    finally:
        source.close()
    return info, packets


def media_packets(
    camera_id: str,
    info: StreamInfo,
    packets,
    start_wallclock: float,
    *,
    dts_offset: int = 0,
    sequence: int = 0,
) -> list[MediaPacket]:
    """The packets as a reader would publish them, dated from ``start_wallclock`` by their timestamps."""
    first = packets[0].dts
    out = []
    for index, raw in enumerate(packets):
        out.append(
            MediaPacket(
                camera_id=camera_id,
                data=raw.data,
                pts=raw.pts + dts_offset,
                dts=raw.dts + dts_offset,
                duration=raw.duration,
                is_keyframe=raw.is_keyframe,
                is_corrupt=False,
                stream=info,
                arrival=time.monotonic(),
                wallclock=start_wallclock + float((raw.dts - first) * info.time_base),
                sequence=sequence + index,
            )
        )
    return out


def new_stream(info: StreamInfo) -> StreamInfo:
    """The same parameters as a distinct stream object, as a reader makes after reconnecting."""
    return replace(info)


def feed(fanout: Fanout, packets, *, timeout: float = 60.0) -> None:
    """Publish as fast as the subscribers keep up (never dropping): tests stay fast and exact."""
    deadline = time.monotonic() + timeout
    for packet in packets:
        while any(s.pending() >= max(1, s.maxsize // 2) for s in fanout.subscribers):
            if time.monotonic() > deadline:
                raise TimeoutError("subscribers stopped consuming")
            time.sleep(0.002)
        fanout.publish(packet)


def wait_drained(fanout: Fanout, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while any(s.pending() for s in fanout.subscribers):
        if time.monotonic() > deadline:
            raise TimeoutError("subscribers did not drain")
        time.sleep(0.01)


def decode_frames(path) -> int:
    """Decode every frame of a file with PyAV; the count of frames that decoded."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(container.streams.video[0]))
