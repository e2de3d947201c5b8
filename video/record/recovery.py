"""Restart after a crash: close every segment left open, from what is really on disk.

A segment whose row is still ``open`` was being written when the process
died. Its file plays up to its last complete fragment; demuxing it gives the
real end, the file's hash enters the index and the camera's chain, and the
recorder's next start records the time lost as a ``recorder_crashed`` gap.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from watchwall.config.database import session_scope
from watchwall.video.record.index_journal import HeldOpen, HeldSegment
from watchwall.video.record.journal_file import JournalFile
from watchwall.video.record.models import (
    SEGMENT_EMPTY,
    SEGMENT_OPEN,
    SEGMENT_RECOVERED,
    RecordingSegment,
    close_segment_row,
)
from watchwall.video.record.segments import (
    UnsafePathError,
    cut_to_complete_fragments,
    file_sha256,
    inside_recordings,
    probe_extent,
)

log = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    recovered: list[str] = field(default_factory=list)  # relative paths closed from disk
    empty: list[str] = field(default_factory=list)  # open rows with nothing playable on disk

    def __bool__(self) -> bool:
        return bool(self.recovered or self.empty)


def recover(
    engine: Engine, recordings_dir: Path, camera_id: str | None = None, *, node: str | None = None
) -> RecoveryReport:
    """Close the open segments (of one camera, or all) this machine holds. Run before the recorders start.

    ``node``: an ingest node recovers only the segments on its own disk (another node's open
    segment is that node's to recover, or is superseded when its camera is taken over).
    """
    report = RecoveryReport()
    query = select(RecordingSegment.id, RecordingSegment.camera_id, RecordingSegment.path).where(
        RecordingSegment.status == SEGMENT_OPEN
    )
    if camera_id is not None:
        query = query.where(RecordingSegment.camera_id == camera_id)
    query = query.where(
        RecordingSegment.node == node if node is not None else RecordingSegment.node.is_(None)
    )
    with session_scope(engine) as session:
        open_rows = session.execute(query.order_by(RecordingSegment.start_utc)).all()
    closes_held: dict[str, set[str]] = {}
    for row_id, row_camera, relative in open_rows:
        if row_camera not in closes_held:
            closes_held[row_camera] = JournalFile(recordings_dir, row_camera).held_closes()
        if relative in closes_held[row_camera]:
            continue  # closed in the outage; its recorder writes the close it holds, with its own hash
        try:
            path = inside_recordings(recordings_dir, relative)
        except UnsafePathError:
            log.error(
                "recovery: segment row %s has a path outside the recordings folder: %r", row_id, relative
            )
            continue
        end = finish_segment_from_disk(engine, row_id, path, status=SEGMENT_RECOVERED)
        (report.recovered if end is not None else report.empty).append(relative)
        log.warning("recovery: %s %s", "closed" if end is not None else "nothing playable in", relative)
    return report


def playable_extent(path: Path):
    """What of a segment file plays, its torn last fragment cut off first; None if nothing (or no file)."""
    if not path.exists():
        return None
    cut_to_complete_fragments(path)
    return probe_extent(path)


def finish_segment_from_disk(engine: Engine, row_id: int | None, path: Path, *, status: str) -> float | None:
    """Close an open index row from the file as it is on disk (after a crash or a write error).

    The end is the end of the last complete fragment found by demuxing. A file
    with nothing playable is removed and its row marked empty (out of the chain).
    """
    extent = playable_extent(path)
    with session_scope(engine) as session:
        row = session.get(RecordingSegment, row_id) if row_id is not None else None
        if row is None:
            return None
        if extent is None:
            row.status = SEGMENT_EMPTY
            row.end_utc = row.start_utc
            row.duration_s = 0.0
            row.bytes = 0
            path.unlink(missing_ok=True)
            return None
        end = row.start_utc + extent.end_s
        close_segment_row(
            session, row, end_utc=end, size=path.stat().st_size, sha256=file_sha256(path), status=status
        )
        return end


def segment_from_disk(recordings_dir: Path, opened: HeldOpen) -> HeldSegment | None:
    """A segment whose row was held (database away) when the process died, closed from its file.

    None, and the file removed, when nothing playable reached the disk."""
    try:
        path = inside_recordings(recordings_dir, opened.path)
    except UnsafePathError:
        log.error("recovery: a held segment has a path outside the recordings folder: %r", opened.path)
        return None
    extent = playable_extent(path)
    if extent is None:
        path.unlink(missing_ok=True)
        log.warning("recovery: nothing playable in %s (held during an outage)", opened.path)
        return None
    log.warning("recovery: closed %s (held during an outage)", opened.path)
    return HeldSegment(
        opened,
        opened.start_utc + extent.end_s,
        path.stat().st_size,
        file_sha256(path),
        status=SEGMENT_RECOVERED,
    )
