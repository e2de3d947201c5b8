"""Is a face visible in a camera's recording of [start, end)? Presence only, never identity.

The segments of the span are found through the recording index, a few frames
are decoded from them (:mod:`watchwall.video.analysis.span_frames`), and a Haar
cascade looks for a face in each. Nothing about a face is kept but the count of
frames that showed one, and one snapshot (JPEG) of the best frame for the record.
A span with no recording (the camera was offline) is an answer, not an error:
``face_present`` false, ``reason`` ``"no_recording"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from watchwall.config.database import session_scope
from watchwall.config.errors import UserError
from watchwall.config.face_check_settings import FaceCheckSettings
from watchwall.video.analysis.face_detector import Face, HaarFaceDetector
from watchwall.video.analysis.opencv_at_exit import opencv_work
from watchwall.video.analysis.span_frames import SampledFrame, SpanDecode, sampled_frames, window_count
from watchwall.video.record.models import RecordingGap, RecordingSegment
from watchwall.video.record.playback import segments_between
from watchwall.video.record.segments import default_recordings_dir

NO_RECORDING = "no_recording"  # no playable segment of the camera overlaps the span
NO_FRAMES = "no_frames"  # segments overlap the span, but no frame of it could be decoded
# pictures this many times the analysed height or taller are decoded without the deblocking filter
SKIP_DEBLOCKING_FROM = 2


@dataclass(frozen=True)
class RecordingLookup:
    """Where recorded video is: the index (database) and the folder the segments' paths are relative to."""

    engine: Engine
    recordings_dir: Path

    @classmethod
    def from_settings(cls, engine: Engine, settings) -> RecordingLookup:
        return cls(engine, default_recordings_dir(settings))


@dataclass(frozen=True)
class FacePresence:
    camera_id: str
    start: float  # UTC epoch seconds, as asked
    end: float
    face_present: bool
    frames_with_face: int
    frames_sampled: int
    frames_decoded: int
    reason: str | None = None  # NO_RECORDING or NO_FRAMES when nothing could be looked at
    snapshot_jpeg: bytes | None = field(default=None, repr=False)
    snapshot_utc: float | None = None  # when the snapshot's frame was recorded
    segment_hashes: list[str] = field(default_factory=list)  # sha256 of the segments used, oldest first
    samples_over_budget: int = 0  # sampling windows left unsampled by the decode budget

    def as_dict(self) -> dict:
        """Everything but the snapshot's bytes."""
        return {
            "camera_id": self.camera_id,
            "start": self.start,
            "end": self.end,
            "face_present": self.face_present,
            "frames_with_face": self.frames_with_face,
            "frames_sampled": self.frames_sampled,
            "frames_decoded": self.frames_decoded,
            "reason": self.reason,
            "snapshot_utc": self.snapshot_utc,
            "segment_hashes": list(self.segment_hashes),
            "samples_over_budget": self.samples_over_budget,
        }


def check_span(
    lookup: RecordingLookup,
    camera_id: str,
    start: float,
    end: float,
    settings: FaceCheckSettings | None = None,
    *,
    detector: HaarFaceDetector | None = None,
) -> FacePresence:
    """Face presence in ``camera_id``'s recording of [start, end) (UTC epoch seconds).

    Only closed (playable) segments are read: call it once the span is recorded
    (:func:`span_settled`). ``detector`` may be passed to reuse a loaded cascade.
    """
    if end <= start:
        raise UserError("the end of the span must come after its start")
    settings = settings or FaceCheckSettings()
    segments = segments_between(lookup.engine, camera_id, start, end)
    if not segments:
        return FacePresence(camera_id, start, end, False, 0, 0, 0, reason=NO_RECORDING)
    detector = detector or HaarFaceDetector.from_settings(settings)
    cost = SpanDecode()
    with_face = sampled = unreadable = 0
    best: tuple[int, float, object] | None = None  # (face area, wall, frame)
    plain: list[SampledFrame] = []  # samples without a face: the middle one is the snapshot then
    middle = start + (end - start) / 2
    last_face: Face | None = None
    still = StillPicture(settings.still_difference)
    deferred: list[SampledFrame] = []  # a sample left unsearched after one without a face (search_every)
    # no early exit at min_frames_with_face: the record reports frames_with_face (``checkins show
    # --json``, the no-face incident's detail), and a face, once found, costs only the cheap search
    # around it in the next samples; the costly case (no face) has nothing to stop early on

    def look(sample: SampledFrame) -> list[Face]:
        nonlocal with_face, best, last_face, unreadable
        if sample.frame is None:
            unreadable += 1
            return []
        with opencv_work():
            grey = _grey(sample.frame)
            faces = still.answer(grey)
            if faces is None:
                faces = detector.faces(grey, near=last_face)
                still.remember(faces)
        last_face = faces[0] if faces else None
        if faces:
            with_face += 1
            if best is None or faces[0].area > best[0]:
                best = (faces[0].area, sample.wall_utc, sample.frame)
        return faces

    def seen_plain(sample: SampledFrame) -> None:
        # kept unread: a sample never searched is decoded only if it ends up the snapshot
        if (
            best is None
            and not sample.unreadable
            and (not plain or abs(sample.wall_utc - middle) < abs(plain[0].wall_utc - middle))
        ):
            plain[:] = [sample]

    def deferrable(sample: SampledFrame) -> bool:
        """Left unsearched unless the next sample shows a face: never two in a row, and of two
        neighbours the one whose skipped decode saves more (the deepest of its group of pictures)."""
        return (
            settings.search_every > 1
            and last_face is None
            and not deferred
            and sampled > 1
            and sample.skip_saves >= sample.next_skip_saves
        )

    samples = sampled_frames(
        lookup.recordings_dir,
        segments,
        start,
        end,
        settings.sample_fps,
        cost,
        skip_deblocking_from=SKIP_DEBLOCKING_FROM * settings.analysis_height,
        decode_budget_mpix_per_s=settings.decode_budget_mpix_per_s,
        floor_s=settings.decode_floor_s,
    )
    for sample in samples:
        sampled += 1
        if deferrable(sample):
            deferred.append(sample)  # searched only if the next sample shows a face
            continue
        faces = look(sample)
        if faces and deferred:
            kept = faces[0]  # the earlier picture is searched around this face first, then as a whole
            earlier = deferred.pop()
            if not look(earlier):
                seen_plain(earlier)
            last_face = kept
        elif deferred:
            seen_plain(deferred.pop())
        if not faces:
            seen_plain(sample)
    for sample in deferred:  # the span's last sample, after one without a face
        if not look(sample):
            seen_plain(sample)
    sampled -= unreadable
    if best:
        snapshot_wall, snapshot_frame = best[1], best[2]
    else:
        readable = [sample for sample in plain if sample.frame is not None]
        snapshot_wall, snapshot_frame = (
            (readable[0].wall_utc, readable[0].frame) if readable else (None, None)
        )
    snapshot = _jpeg(snapshot_frame, settings) if snapshot_frame is not None else None
    return FacePresence(
        camera_id,
        start,
        end,
        face_present=with_face >= settings.min_frames_with_face,
        frames_with_face=with_face,
        frames_sampled=sampled,
        frames_decoded=cost.frames_decoded,
        reason=None if sampled else NO_FRAMES,
        snapshot_jpeg=snapshot,
        snapshot_utc=snapshot_wall,
        segment_hashes=[segment.sha256 for segment in cost.segments_used],
        samples_over_budget=cost.samples_over_budget,
    )


class StillPicture:
    """The last analysed picture as a thumbnail, and what the detector answered for it.

    A camera's still picture (an empty room) gives the same answer every time: a sample that
    differs from the last analysed one by less than ``threshold`` (sensor noise) takes that answer.
    """

    SIZE = (80, 45)

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.thumbnail: np.ndarray | None = None
        self.current: np.ndarray | None = None
        self.faces: list[Face] = []
        self.reused = 0

    def answer(self, grey: np.ndarray) -> list[Face] | None:
        if self.threshold <= 0:
            return None
        self.current = cv2.resize(grey, self.SIZE, interpolation=cv2.INTER_AREA)
        if self.thumbnail is None or cv2.absdiff(self.current, self.thumbnail).mean() >= self.threshold:
            return None
        self.reused += 1
        return list(self.faces)

    def remember(self, faces: list[Face]) -> None:
        self.thumbnail, self.faces = self.current, list(faces)


def expected_samples(start: float, end: float, settings: FaceCheckSettings) -> int:
    """How many frames a fully recorded span gives to the detector (before the decode budget)."""
    return window_count(start, end, settings.sample_fps)


def span_settled(lookup: RecordingLookup, camera_id: str, end: float) -> bool:
    """Whether the index already says all it will about the camera up to ``end``.

    True once a closed segment or a gap of the camera reaches ``end`` or lies after it:
    the recorder has moved past the span, so :func:`check_span` sees all of it.
    """
    with session_scope(lookup.engine) as session:
        segment_end = session.scalar(
            select(func.max(RecordingSegment.end_utc)).where(
                RecordingSegment.camera_id == camera_id,
                RecordingSegment.end_utc.is_not(None),
            )
        )
        gap_end = session.scalar(
            select(func.max(RecordingGap.end_utc)).where(RecordingGap.camera_id == camera_id)
        )
    return max(segment_end or 0.0, gap_end or 0.0) >= end


def _grey(frame) -> np.ndarray:
    """The luma plane is the grey picture: no colour conversion for the detector."""
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12"):
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        return rows[:, : frame.width]
    return frame.to_ndarray(format="gray")


def _jpeg(frame, settings: FaceCheckSettings) -> bytes:
    picture = frame.to_ndarray(format="bgr24")
    height, width = picture.shape[:2]
    with opencv_work():
        if width > settings.snapshot_max_width:
            scale = settings.snapshot_max_width / width
            picture = cv2.resize(
                picture, (settings.snapshot_max_width, round(height * scale)), cv2.INTER_AREA
            )
        ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, settings.snapshot_jpeg_quality])
    if not ok:
        raise RuntimeError("cannot encode the snapshot as JPEG")
    return data.tobytes()


__all__ = [
    "NO_FRAMES",
    "NO_RECORDING",
    "Face",
    "FacePresence",
    "FaceCheckSettings",
    "RecordingLookup",
    "check_span",
    "expected_samples",
    "span_settled",
]
