"""The benchmark's source clip: 720p25 H.264 at about 2 Mbit/s, encoded once with PyAV's libx264.

Written as a raw Annex-B elementary stream (SPS/PPS repeated on every keyframe), so the
RTSP test server can loop it byte for byte without demuxing or encoding anything.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT, FPS = 1280, 720, 25
GOP = 50  # a keyframe every 2 s, as cameras are commonly set
BIT_RATE = 2_000_000


def make_clip(path: Path, seconds: int) -> None:
    """A moving, noisy picture, so that x264 really spends about 2 Mbit/s on it."""
    rng = np.random.default_rng(7)
    base = rng.integers(0, 255, (HEIGHT // 8, WIDTH // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    partial = path.with_suffix(".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(partial), "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.bit_rate = BIT_RATE
        stream.codec_context.thread_type = "FRAME"  # PyAV defaults to slice threads: 2 slices a frame
        stream.options = {
            "preset": "veryfast",
            "x264-params": (
                f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes=0:slices=1:repeat-headers=1:"
                f"vbv-maxrate={BIT_RATE // 1000}:vbv-bufsize={BIT_RATE // 1000}"
            ),
        }
        for index in range(seconds * FPS):
            noise = (
                rng.integers(0, 24, (HEIGHT // 4, WIDTH // 4, 1), dtype=np.uint8).repeat(4, 0).repeat(4, 1)
            )
            picture = np.roll(base, index * 4, axis=1) + noise
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.replace(path)


def ensure_clip(out_dir: Path, seconds: int = 20) -> Path:
    """The cached clip, made on first use."""
    path = out_dir / f"ingest_720p25_{seconds}s.h264"
    if not path.is_file():
        make_clip(path, seconds)
    return path
