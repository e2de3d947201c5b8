"""H.265 packets as an RTSP camera sends them (Annex-B, VPS/SPS/PPS before every keyframe),
encoded by PyAV's bundled libx265: no file, no server."""

from __future__ import annotations

import time
from fractions import Fraction

import av
import numpy as np

from watchwall.video.ingest.packet import MediaPacket, StreamInfo


def hevc_packets(
    width: int = 320, height: int = 180, frames: int = 30, fps: int = 15, gop: int = 15
) -> list[MediaPacket]:
    encoder = av.CodecContext.create("libx265", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, fps)
    encoder.framerate = Fraction(fps, 1)
    encoder.options = {
        "preset": "ultrafast",
        "x265-params": f"keyint={gop}:min-keyint={gop}:bframes=0:repeat-headers=1:log-level=error",
    }
    encoded = []
    for index in range(frames):
        picture = np.zeros((height, width, 3), dtype=np.uint8)
        picture[:, (index * 7) % width :, 1] = 200  # a moving edge
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = index
        encoded += encoder.encode(frame)
    encoded += encoder.encode(None)
    info = StreamInfo(codec="hevc", width=width, height=height, time_base=Fraction(1, 90000))
    ticks = 90000 // fps
    return [
        MediaPacket(
            camera_id="hevc-cam",
            data=bytes(packet),
            pts=packet.pts * ticks,
            dts=packet.pts * ticks,
            duration=ticks,
            is_keyframe=packet.is_keyframe,
            is_corrupt=False,
            stream=info,
            arrival=time.monotonic(),
            wallclock=time.time(),
            sequence=index,
        )
        for index, packet in enumerate(encoded)
    ]
