"""The two cameras of the roll-call tests, as H.264 files the GStreamer RTSP server loops (``file:``):

- a face: scikit-image's ``data.astronaut()`` (a real photograph shipped in the package), letterboxed
  into 640x360 (never stretched: a face detector needs the true aspect ratio) and moving slightly;
- an empty room: walls, a floor, a desk and a door, with a little sensor noise, and nobody in it.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT, FPS = 640, 360, 15


def _encode(path: Path, frames, seconds: int) -> Path:
    # a raw Annex-B stream for the RTSP server's file: mount; an .mp4 for a site's file: camera
    with av.open(str(path), "w", format="mp4" if path.suffix == ".mp4" else "h264") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {
            "preset": "ultrafast",
            "x264-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0:bframes=0:repeat-headers=1",
        }
        for index in range(seconds * FPS):
            frame = av.VideoFrame.from_ndarray(frames(index), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def face_video(path: Path, seconds: int = 6) -> Path:
    from skimage import data
    from skimage.transform import resize

    size = HEIGHT - 20
    portrait = (resize(data.astronaut(), (size, size), anti_aliasing=True) * 255).astype(np.uint8)

    def frame(index: int) -> np.ndarray:
        canvas = np.full((HEIGHT, WIDTH, 3), 40, dtype=np.uint8)
        phase = 2 * np.pi * index / (seconds * FPS)  # one slow sway a loop, ending where it began
        dx, dy = int(round(12 * np.sin(phase))), int(round(5 * np.sin(2 * phase)))
        left, top = (WIDTH - size) // 2 + dx, 10 + dy
        canvas[top : top + size, left : left + size] = portrait
        return canvas

    return _encode(path, frame, seconds)


def empty_room_video(path: Path, seconds: int = 6) -> Path:
    rng = np.random.default_rng(7)
    room = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    room[:] = (200, 196, 184)  # wall
    room[250:] = (120, 100, 80)  # floor
    room[90:250, 60:150] = (150, 110, 70)  # door
    room[200:260, 380:560] = (90, 70, 50)  # desk
    room[60:140, 300:420] = (235, 235, 240)  # a notice board

    def frame(_index: int) -> np.ndarray:
        noise = rng.integers(-4, 5, size=room.shape, dtype=np.int16)
        return np.clip(room.astype(np.int16) + noise, 0, 255).astype(np.uint8)

    return _encode(path, frame, seconds)
