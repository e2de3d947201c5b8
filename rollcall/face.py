"""The face check the verdict calls: is a face present in a recorded span of one camera?

The roll-call needs only this one question answered; the detector, its thresholds and what it
decodes belong to the face-presence module (``watchwall.video.faces``, issue 11 part 3). This
module is the narrow seam between the two, so the roll-call never depends on how faces are found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class FaceVerdict:
    face_present: bool
    frames_checked: int
    frames_with_face: int
    reason: str | None = None  # e.g. "no_recording" when the span holds no video


# (engine, recordings_dir, camera_id, start_utc, end_utc) -> FaceVerdict
FaceCheck = Callable[[Engine, Path, str, float, float], FaceVerdict]
