"""Demo cameras that behave like real ones: the scene encoded live, with the wall-clock time on it.

A real camera burns its clock into the picture, so no two keyframes a few seconds apart are alike;
a looped clip has none, and the tamper analytics saw the same keyframe every loop and called a
healthy demo camera "frozen". Here each frame is the camera's scene (the same backgrounds and
moving element as the cached clips of :mod:`watchwall.video.ingest.demo_source`) with the label and
the wall-clock time in the site's zone drawn on it, encoded with libx264 (ultrafast, no B-frames,
an IDR frame every ``gop`` frames, parameter sets repeated) into MPEG-TS, paced in real time, and
handed to the reader through an OS pipe (FFmpeg's ``pipe:`` protocol): the reader treats it as a
live network camera.

Cost: about 1.5 % of a core per 640x360 @ 15 fps camera for drawing and encoding, 1.7 x a looped
clip read in real time (benchmarks/README.md, "Demo cameras with a clock").
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from datetime import datetime, tzinfo
from fractions import Fraction

import av
import cv2
import numpy as np

from watchwall.config.settings import get_settings
from watchwall.config.site import DemoSource
from watchwall.video.analysis.opencv_at_exit import InterpreterExiting, opencv_work
from watchwall.video.ingest.demo_source import BACKGROUNDS, accent_colour, ascii_label, draw_moving_element
from watchwall.video.ingest.stream_source import StreamSource

log = logging.getLogger(__name__)

# the reader gone (its container closed) shows as a pipe that takes nothing for this long
WRITE_STALL_S = 5.0
OPEN_OPTIONS = {"analyzeduration": "300000", "probesize": "65536"}


class _PipeWriter:
    """The pipe's write end as a file for PyAV; a write that cannot proceed for WRITE_STALL_S fails.

    The write end is non-blocking: select() calls a pipe writable once PIPE_BUF bytes are free,
    and a blocking write of more than fits then waits for the reader, for ever if it never reads.
    Non-blocking, the write takes what fits and the rest waits for the next select()."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)  # the write end's own file description: the reader's stays blocking

    def write(self, data) -> int:
        view = memoryview(data)
        while view:
            _, ready, _ = select.select([], [self.fd], [], WRITE_STALL_S)
            if not ready:
                raise BrokenPipeError("demo camera: nobody reads the stream")
            try:
                written = os.write(self.fd, view)
            except BlockingIOError:
                continue
            view = view[written:]
        return len(data)

    def flush(self) -> None:
        pass


class _Pipe:
    """The OS pipe from an encoder to its reader; each end is closed once, by its own side.

    FFmpeg's ``pipe:`` protocol never closes the descriptor it reads, so the reader's
    ``StreamSource.release()`` closes the read end, and the encoder's next write fails at once
    (EPIPE). The encoder never closes the read end: a reader may still be reading it (say it was
    starved of CPU for a while), and a closed descriptor's number soon belongs to another file
    or socket of the process, which FFmpeg would then read from.
    """

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self._lock = threading.Lock()
        self._open = {self.read_fd, self.write_fd}

    def close_read_end(self) -> None:
        self._close(self.read_fd)

    def close_write_end(self) -> None:
        self._close(self.write_fd)

    def _close(self, fd: int) -> None:
        with self._lock:
            if fd not in self._open:
                return
            self._open.discard(fd)
        os.close(fd)


class LiveDemo:
    """One demo camera's live stream; :meth:`open` starts an encoder for one reader connection."""

    def __init__(self, camera_id: str, demo: DemoSource, label: str, zone: tzinfo | None = None) -> None:
        self.camera_id = camera_id
        self.zone = zone or get_settings().zone  # the site's time, as a camera set up there shows it
        self.demo = demo
        self.width, self.height = demo.width - demo.width % 2, demo.height - demo.height % 2
        self.accent = accent_colour(camera_id)
        self.background = BACKGROUNDS[demo.pattern](self.width, self.height, self.accent)
        self.label = ascii_label(label) or camera_id

    def frame(self, index: int, now: datetime) -> np.ndarray:
        """Frame ``index`` (the moving element's phase) with the time ``now`` on it, as I420."""
        picture = self.background.copy()
        frames = self.demo.seconds * self.demo.fps
        draw_moving_element(picture, self.demo.pattern, (index % frames) / frames, self.accent)
        draw_clock_overlay(picture, self.label, now)
        return cv2.cvtColor(picture, cv2.COLOR_BGR2YUV_I420)

    def open(self) -> StreamSource:
        """A new stream; the reader calls its ``release()`` when done, and the encoder then ends."""
        pipe = _Pipe()
        thread = threading.Thread(
            target=self._encode, args=(pipe,), name=f"demo-{self.camera_id}", daemon=True
        )
        thread.start()
        return StreamSource(
            url=f"pipe:{pipe.read_fd}",
            display=f"demo:{self.camera_id}",
            options=dict(OPEN_OPTIONS),
            on_release=pipe.close_read_end,
        )

    def _encode(self, pipe: _Pipe) -> None:
        fps = self.demo.fps
        try:
            with av.open(_PipeWriter(pipe.write_fd), mode="w", format="mpegts") as container:
                stream = container.add_stream("libx264", rate=fps)
                stream.width, stream.height, stream.pix_fmt = self.width, self.height, "yuv420p"
                stream.options = {
                    "preset": "ultrafast",
                    "tune": "zerolatency",
                    "x264-params": f"keyint={self.demo.gop}:min-keyint={self.demo.gop}:scenecut=0"
                    ":bframes=0:repeat-headers=1",
                }
                started = time.monotonic()
                index = 0
                while True:
                    with opencv_work():
                        picture = self.frame(index, datetime.now(self.zone))
                    frame = av.VideoFrame.from_ndarray(picture, "yuv420p")
                    frame.pts, frame.time_base = index, Fraction(1, fps)
                    container.mux(stream.encode(frame))
                    index += 1
                    delay = started + index / fps - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    elif delay < -1.0:  # far behind (machine busy): skip ahead instead of bursting
                        started = time.monotonic() - index / fps
        except (BrokenPipeError, OSError, av.error.FFmpegError, InterpreterExiting) as exc:
            log.debug("demo camera %s: encoder ends (%s)", self.camera_id, exc)
        finally:
            pipe.close_write_end()  # the reader reads what is left, then the end of the stream


def draw_clock_overlay(picture: np.ndarray, label: str, now: datetime) -> None:
    """The label in a dark band at the top and the date and time at the bottom, as cameras show them."""
    height, width = picture.shape[:2]
    scale = max(0.35, width / 1280)
    band = int(34 * scale * 2)
    picture[:band] = (picture[:band] // 3).astype(np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(
        picture, label, (int(10 * scale), int(band * 0.68)), font, scale, (255, 255, 255), 1, cv2.LINE_AA
    )
    clock = now.strftime("%Y-%m-%d %H:%M:%S")
    origin = (int(10 * scale), height - int(24 * scale))
    # large and bold enough to survive the analytics' downscale to 320 px (one digit: ~50 pixels change)
    cv2.putText(picture, clock, origin, font, scale * 1.6, (0, 0, 0), 6, cv2.LINE_AA)
    cv2.putText(picture, clock, origin, font, scale * 1.6, (255, 255, 255), 2, cv2.LINE_AA)
