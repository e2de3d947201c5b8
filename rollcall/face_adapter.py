"""The face-presence module's check, seen through the roll-call's :data:`~watchwall.rollcall.face.FaceCheck`.

Wired to the face-presence module (issue 11 part 3) once it is merged; until then asking for a
verdict raises, and the worker retries the call on its next tick (logged)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from watchwall.rollcall.face import FaceVerdict


def face_check(
    engine: Engine, recordings_dir: Path, camera_id: str, start_utc: float, end_utc: float
) -> FaceVerdict:
    raise RuntimeError("the face-presence module is not merged into this build yet")
