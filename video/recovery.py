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

from config.database import session_scope
from video.models import SEGMENT_OPEN, SEGMENT_RECOVERED, RecordingSegment
from video.recorder import finish_segment_from_disk
from video.segments import UnsafePathError, inside_recordings

log = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    recovered: list[str] = field(default_factory=list)  # relative paths closed from disk
    empty: list[str] = field(default_factory=list)  # open rows with nothing playable on disk

    def __bool__(self) -> bool:
        return bool(self.recovered or self.empty)


def recover(engine: Engine, recordings_dir: Path, camera_id: str | None = None) -> RecoveryReport:
    """Close the open segments (of one camera, or all). Run before the recorders start."""
    report = RecoveryReport()
    query = select(RecordingSegment.id, RecordingSegment.path).where(RecordingSegment.status == SEGMENT_OPEN)
    if camera_id is not None:
        query = query.where(RecordingSegment.camera_id == camera_id)
    with session_scope(engine) as session:
        open_rows = session.execute(query.order_by(RecordingSegment.start_utc)).all()
    for row_id, relative in open_rows:
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
