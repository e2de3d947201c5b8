"""Demo cameras: a generated, seamlessly looping H.264 clip per camera, cached on disk.

Each clip shows the camera's label, a moving element (so motion is visible on
the wall), and the position in the loop as a clock and frame counter. The
moving element travels a closed path whose period is the clip's length, so
the last frame leads smoothly into the first; the first frame is an IDR
frame and there are no B-frames, so a reader can loop the file by seeking to
the start and keep timestamps strictly increasing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
import zlib
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from watchwall.config.site import DemoSource
from watchwall.video.analysis.opencv_at_exit import opencv_work

# Bumped whenever the picture or the encoding changes, so cached clips are regenerated.
GENERATOR_VERSION = 1
REFERENCE_PIXELS = 640 * 360
REFERENCE_BITRATE = 1_000_000
# A temporary clip this old was left by a generator that died; a live one finishes in seconds.
STALE_TEMPORARY_S = 3600.0

Scene = Callable[[int, int, tuple[int, int, int]], np.ndarray]


def ascii_label(label: str) -> str:
    """The label as OpenCV's Hershey fonts can draw it: ASCII only, spaces collapsed."""
    text = label.encode("ascii", "ignore").decode("ascii")
    return " ".join(text.split())


def clip_key(camera_id: str, demo: DemoSource, label: str) -> str:
    parameters = {"camera": camera_id, "label": label, "demo": demo.model_dump(), "v": GENERATOR_VERSION}
    return hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:16]


def ensure_demo_clip(camera_id: str, demo: DemoSource, label: str, cache_dir: Path) -> Path:
    """The clip for this camera, generated on first use; the same parameters give the same file."""
    cache_dir = Path(cache_dir)
    path = cache_dir / f"{camera_id}-{clip_key(camera_id, demo, label)}.mp4"
    if path.exists():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(cache_dir, camera_id)
    handle, temporary = tempfile.mkstemp(prefix=f".{camera_id}-", suffix=".mp4", dir=cache_dir)
    os.close(handle)
    try:
        write_demo_clip(Path(temporary), camera_id, demo, label)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the clip is an ordinary cache file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _remove_stale_temporaries(cache_dir: Path, camera_id: str) -> None:
    cutoff = time.time() - STALE_TEMPORARY_S
    for leftover in cache_dir.glob(f".{camera_id}-*.mp4"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except FileNotFoundError:
            pass


def write_demo_clip(path: Path, camera_id: str, demo: DemoSource, label: str) -> None:
    """Render and encode the clip into ``path`` (overwritten)."""
    width, height = demo.width - demo.width % 2, demo.height - demo.height % 2
    frames = demo.seconds * demo.fps
    accent = accent_colour(camera_id)
    background = BACKGROUNDS[demo.pattern](width, height, accent)
    text = ascii_label(label) or camera_id
    with av.open(str(path), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=demo.fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = max(100_000, REFERENCE_BITRATE * width * height // REFERENCE_PIXELS)
        stream.codec_context.time_base = Fraction(1, demo.fps)
        stream.options = {
            "preset": "veryfast",
            "profile": "main",
            "x264-params": f"keyint={demo.gop}:min-keyint={demo.gop}:scenecut=0:bframes=0",
        }
        for index in range(frames):
            with opencv_work():
                picture = background.copy()
                draw_moving_element(picture, demo.pattern, index / frames, accent)
                _draw_overlay(picture, text, index, frames, demo.fps, big_counter=demo.pattern == "counter")
                yuv = cv2.cvtColor(picture, cv2.COLOR_BGR2YUV_I420)
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts = index
            frame.time_base = Fraction(1, demo.fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def accent_colour(camera_id: str) -> tuple[int, int, int]:
    """A stable, saturated colour per camera so tiles are told apart at a glance."""
    hue = zlib.crc32(camera_id.encode()) % 180
    hsv = np.uint8([[[hue, 200, 230]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def _bars(width: int, height: int, accent: tuple[int, int, int]) -> np.ndarray:
    colours = [
        (192, 192, 192),
        (0, 192, 192),
        (192, 192, 0),
        (0, 192, 0),
        (192, 0, 192),
        (0, 0, 192),
        (192, 0, 0),
    ]
    picture = np.zeros((height, width, 3), np.uint8)
    bar = math.ceil(width / len(colours))
    for index, colour in enumerate(colours):
        picture[: height * 2 // 3, index * bar : (index + 1) * bar] = colour
    ramp = np.linspace(0, 255, width, dtype=np.uint8)
    picture[height * 2 // 3 :, :] = ramp[None, :, None]
    cv2.rectangle(picture, (0, height * 2 // 3), (width // 8, height - 1), accent, -1)
    return picture


def _room(width: int, height: int, accent: tuple[int, int, int]) -> np.ndarray:
    """A plain room: wall, floor in perspective, door, window, table and a notice board."""
    picture = np.empty((height, width, 3), np.uint8)
    horizon = height * 3 // 5
    wall = np.linspace(215, 175, horizon, dtype=np.uint8)
    picture[:horizon] = np.stack([wall, wall + 10, wall + 20], axis=1)[:, None, :]
    floor = np.linspace(120, 80, height - horizon, dtype=np.uint8)
    picture[horizon:] = np.stack([floor, floor + 15, floor + 35], axis=1)[:, None, :]
    for step in range(-6, 7):
        x = width // 2 + step * width // 6
        cv2.line(picture, (width // 2 + step * width // 24, horizon), (x, height - 1), (70, 85, 110), 1)
    unit = max(4, width // 32)
    cv2.rectangle(picture, (2 * unit, horizon - 9 * unit), (6 * unit, horizon), (60, 90, 130), -1)
    cv2.circle(picture, (5 * unit, horizon - 4 * unit), max(2, unit // 4), (40, 200, 230), -1)
    window = (width - 11 * unit, horizon - 10 * unit, width - 3 * unit, horizon - 5 * unit)
    cv2.rectangle(picture, window[:2], window[2:], (235, 205, 160), -1)
    cv2.rectangle(picture, window[:2], window[2:], (90, 90, 90), 2)
    cv2.line(
        picture,
        ((window[0] + window[2]) // 2, window[1]),
        ((window[0] + window[2]) // 2, window[3]),
        (90, 90, 90),
        2,
    )
    cv2.rectangle(picture, (11 * unit, horizon - 8 * unit), (18 * unit, horizon - 4 * unit), accent, -1)
    cv2.rectangle(picture, (11 * unit, horizon - 8 * unit), (18 * unit, horizon - 4 * unit), (50, 50, 50), 2)
    table_top = horizon + 2 * unit
    cv2.rectangle(picture, (12 * unit, table_top), (22 * unit, table_top + unit), (40, 70, 110), -1)
    for x in (13 * unit, 21 * unit):
        cv2.rectangle(
            picture,
            (x - unit // 4, table_top + unit),
            (x + unit // 4, table_top + 4 * unit),
            (30, 50, 80),
            -1,
        )
    return picture


def _counter(width: int, height: int, accent: tuple[int, int, int]) -> np.ndarray:
    picture = np.full((height, width, 3), 40, np.uint8)
    for x in range(0, width, max(8, width // 16)):
        cv2.line(picture, (x, 0), (x, height - 1), (70, 70, 70), 1)
    for y in range(0, height, max(8, height // 9)):
        cv2.line(picture, (0, y), (width - 1, y), (70, 70, 70), 1)
    cv2.rectangle(picture, (0, 0), (width - 1, height - 1), accent, 4)
    return picture


BACKGROUNDS: dict[str, Scene] = {"bars": _bars, "room": _room, "counter": _counter}


def draw_moving_element(
    picture: np.ndarray, pattern: str, phase: float, accent: tuple[int, int, int]
) -> None:
    """Something that moves along a closed path: one full turn per loop of the clip."""
    height, width = picture.shape[:2]
    angle = 2 * math.pi * phase
    unit = max(4, width // 32)
    if pattern == "room":
        x = int(width / 2 + width * 0.33 * math.sin(angle))
        feet = int(height * 0.85 + height * 0.05 * math.cos(angle))
        cv2.rectangle(picture, (x - unit, feet - 5 * unit), (x + unit, feet), (70, 60, 160), -1)
        cv2.circle(picture, (x, feet - 6 * unit), unit, (150, 180, 220), -1)
        return
    centre = (
        int(width / 2 + width * 0.35 * math.cos(angle)),
        int(height / 2 + height * 0.3 * math.sin(angle)),
    )
    cv2.circle(picture, centre, 2 * unit, accent, -1)
    cv2.circle(picture, centre, 2 * unit, (255, 255, 255), 2)
    if pattern == "counter":
        hand = (
            int(width / 2 + height * 0.4 * math.sin(angle)),
            int(height / 2 - height * 0.4 * math.cos(angle)),
        )
        cv2.line(picture, (width // 2, height // 2), hand, (255, 255, 255), 3)


def _draw_overlay(
    picture: np.ndarray, label: str, index: int, frames: int, fps: int, big_counter: bool
) -> None:
    height, width = picture.shape[:2]
    scale = max(0.35, width / 1280)
    if big_counter:
        digits = f"{index:04d}"
        size = width / 160
        (text_width, text_height), _ = cv2.getTextSize(digits, cv2.FONT_HERSHEY_DUPLEX, size, 4)
        origin = ((width - text_width) // 2, (height + text_height) // 2)
        cv2.putText(picture, digits, origin, cv2.FONT_HERSHEY_DUPLEX, size, (235, 235, 235), 4, cv2.LINE_AA)
    band = int(34 * scale * 2)
    picture[:band] = (picture[:band] // 3).astype(np.uint8)
    cv2.putText(
        picture,
        label,
        (int(10 * scale), int(band * 0.68)),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        1,
        cv2.LINE_AA,
    )
    seconds = index / fps
    clock = f"{int(seconds // 60):02d}:{seconds % 60:04.1f}  frame {index:04d}/{frames:04d}"
    origin = (int(10 * scale), height - int(14 * scale))
    cv2.putText(picture, clock, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(picture, clock, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
