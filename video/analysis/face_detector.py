"""Is there a face in this picture: OpenCV 4.x's Haar cascade, shipped inside the opencv wheel.

Presence only: the detector answers rectangles, nothing that identifies a person.
The cascade comes from ``cv2.data`` (no download at run time); OpenCV 5 wheels ship
no cascades, hence ``opencv-python-headless < 5``. Why Haar and not YuNet: see
benchmarks/README.md, "Face presence".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DEFAULT_CASCADE = "haarcascade_frontalface_default.xml"
CASCADE_WINDOW_PX = 24  # the cascade's own window: no smaller face can be found


@dataclass(frozen=True)
class Face:
    """A face's rectangle in the picture that was given to :meth:`HaarFaceDetector.faces`."""

    x: int
    y: int
    width: int
    height: int

    @property
    def area(self) -> int:
        return self.width * self.height


def cascade_path(name: str = DEFAULT_CASCADE) -> Path:
    path = Path(cv2.data.haarcascades) / name
    if not path.is_file():
        raise FileNotFoundError(f"OpenCV ships no cascade {name!r} in {cv2.data.haarcascades}")
    return path


class HaarFaceDetector:
    """Frontal faces in 8-bit grey pictures, scaled down to ``analysis_height`` first (aspect kept)."""

    def __init__(
        self,
        *,
        min_face_px: int,
        analysis_height: int,
        min_neighbors: int = 5,
        scale_factor: float = 1.2,
        cascade: str = DEFAULT_CASCADE,
    ) -> None:
        self.classifier = cv2.CascadeClassifier(str(cascade_path(cascade)))
        if self.classifier.empty():
            raise RuntimeError(f"cannot load the cascade {cascade!r}")
        self.min_face_px = min_face_px
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
        )

    def faces(self, grey: np.ndarray) -> list[Face]:
        """Faces at least ``min_face_px`` tall in the analysed picture, in ``grey``'s own pixels, largest first."""
        height, width = grey.shape[:2]
        scale = min(1.0, self.analysis_height / height)
        small = grey
        if scale < 1.0:
            # never stretch: both sides by the same factor, or the cascade misses faces
            small = cv2.resize(
                grey, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
            )
        smallest = max(CASCADE_WINDOW_PX, self.min_face_px)
        found = self.classifier.detectMultiScale(
            cv2.equalizeHist(small),
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(smallest, smallest),
        )
        faces = [
            Face(round(x / scale), round(y / scale), round(w / scale), round(h / scale))
            for (x, y, w, h) in (found if len(found) else [])
        ]
        return sorted(faces, key=lambda face: face.area, reverse=True)
