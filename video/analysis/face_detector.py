"""Is there a face in this picture: OpenCV 4.x's Haar cascades, shipped inside the opencv wheel.

Presence only: the detector answers rectangles, nothing that identifies a person.
The cascades come from ``cv2.data`` (no download at run time); OpenCV 5 wheels ship
none, hence ``opencv-python-headless < 5``. Why Haar and not YuNet, and why
``alt2``: see benchmarks/README.md, "Face presence".

A face seen in one sample is looked for first around the same place in the next
(a person in front of a camera moves little in half a second): that search is about
ten times cheaper than the whole picture's, which is searched only when it finds nothing.

The analysed picture is not shrunk further to where the smallest face wanted fills the cascade's
own 20-px window: tried, and ``alt2`` then missed the astronaut's face (about 34 px high in a
200-px picture) in every frame: it needs the detail (benchmarks/README.md, "Face presence").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CASCADES = {
    "alt2": "haarcascade_frontalface_alt2.xml",
    "alt": "haarcascade_frontalface_alt.xml",
    "default": "haarcascade_frontalface_default.xml",
}
CASCADE_WINDOW_PX = 20  # below the cascades' own window (20 or 24 px) nothing can be found
NEAR_MARGIN = 0.5  # the search around the last face: its rectangle grown by half its size each way
NEAR_SIZES = (0.7, 1.5)  # ... for a face between these multiples of its size
NEAR_SCALE_FACTOR = 1.1  # a small area: a fine step costs little there


@dataclass(frozen=True)
class Face:
    """A face's rectangle, in the pixels of the picture given to :meth:`HaarFaceDetector.faces`."""

    x: int
    y: int
    width: int
    height: int

    @property
    def area(self) -> int:
        return self.width * self.height


def shrink(grey: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-averaged down to ``width`` x ``height``; by a whole factor first where it is 2 or more
    (OpenCV's fast path): 1080p to 320 px high costs about half of the one-step resize (2.1 ms, not 4)."""
    whole = min(grey.shape[1] // width, grey.shape[0] // height)
    if whole >= 2:
        grey = cv2.resize(
            grey, (grey.shape[1] // whole, grey.shape[0] // whole), interpolation=cv2.INTER_AREA
        )
    return cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)


def cascade_path(name: str) -> Path:
    path = Path(cv2.data.haarcascades) / CASCADES[name]
    if not path.is_file():
        raise FileNotFoundError(f"OpenCV ships no cascade {CASCADES[name]!r} in {cv2.data.haarcascades}")
    return path


class HaarFaceDetector:
    """Frontal faces in 8-bit grey pictures, scaled down to ``analysis_height`` first (aspect kept)."""

    def __init__(
        self,
        *,
        min_face_px: int,
        analysis_height: int,
        min_neighbors: int = 5,
        scale_factor: float = 1.25,
        cascade: str = "alt2",
    ) -> None:
        self.classifier = cv2.CascadeClassifier(str(cascade_path(cascade)))
        if self.classifier.empty():
            raise RuntimeError(f"cannot load the cascade {cascade!r}")
        self.min_face_px = max(CASCADE_WINDOW_PX, min_face_px)
        self.analysis_height = analysis_height
        self.min_neighbors = min_neighbors
        self.scale_factor = scale_factor

    @classmethod
    def from_settings(cls, settings) -> HaarFaceDetector:
        """From a :class:`watchwall.config.face_check_settings.FaceCheckSettings`."""
        return cls(
            min_face_px=settings.min_face_px,
            analysis_height=settings.analysis_height,
            min_neighbors=settings.min_neighbors,
            scale_factor=settings.scale_factor,
            cascade=settings.cascade,
        )

    def faces(self, grey: np.ndarray, near: Face | None = None) -> list[Face]:
        """Faces at least ``min_face_px`` tall in the analysed picture, in ``grey``'s pixels, largest first.

        ``near``: a face of an earlier picture; looked for around it first.
        A thread other than the main one calls it inside ``opencv_work()`` (face_presence does).
        """
        height, width = grey.shape[:2]
        scale = min(1.0, self.analysis_height / height)
        small = grey
        if scale < 1.0:
            # never stretch: both sides by the same factor, or the cascade misses faces
            small = shrink(grey, round(width * scale), round(height * scale))
        small = cv2.equalizeHist(small)
        found = self._near(small, near, scale) if near is not None else []
        if not found:
            found = self._detect(small, (0, 0), self.min_face_px, None, self.scale_factor)
        faces = [
            Face(round(x / scale), round(y / scale), round(w / scale), round(h / scale))
            for x, y, w, h in found
        ]
        return sorted(faces, key=lambda face: face.area, reverse=True)

    def _near(self, small: np.ndarray, near: Face, scale: float) -> list[tuple[int, int, int, int]]:
        x, y, side = near.x * scale, near.y * scale, max(near.width, near.height) * scale
        margin = side * NEAR_MARGIN
        left, top = max(0, round(x - margin)), max(0, round(y - margin))
        right = min(small.shape[1], round(x + side + margin))
        bottom = min(small.shape[0], round(y + side + margin))
        smallest = max(self.min_face_px, round(side * NEAR_SIZES[0]))
        largest = round(side * NEAR_SIZES[1])
        if right - left < smallest or bottom - top < smallest or largest < smallest:
            return []
        return self._detect(small[top:bottom, left:right], (left, top), smallest, largest, NEAR_SCALE_FACTOR)

    def _detect(self, picture, offset, smallest, largest, scale_factor) -> list[tuple[int, int, int, int]]:
        found = self.classifier.detectMultiScale(
            picture,
            scaleFactor=scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(smallest, smallest),
            maxSize=(largest, largest) if largest else (0, 0),
        )
        return (
            [(int(x) + offset[0], int(y) + offset[1], int(w), int(h)) for x, y, w, h in found]
            if len(found)
            else []
        )
