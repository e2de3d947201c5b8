"""The face-presence module's check (``watchwall.video.analysis.face_presence``, issue 11 part 3) seen
through the roll-call's :data:`~watchwall.rollcall.face.FaceCheck`: presence only, from the recording,
with the face-check settings of the installation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from watchwall.rollcall.face import FaceVerdict


def face_check_with(settings=None):
    """A FaceCheck using ``settings`` (FaceCheckSettings; None: its defaults)."""

    def check(
        engine: Engine, recordings_dir: Path, camera_id: str, start_utc: float, end_utc: float
    ) -> FaceVerdict:
        # imported on first use: the web process starts without loading OpenCV's cascades
        from watchwall.video.analysis.face_presence import RecordingLookup, check_span

        found = check_span(RecordingLookup(engine, recordings_dir), camera_id, start_utc, end_utc, settings)
        return FaceVerdict(found.face_present, found.frames_sampled, found.frames_with_face, found.reason)

    return check
