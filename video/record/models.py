"""The recording index: segments on disk (hash-chained per camera), gaps with their reason, evidence holds.

Times are UTC epoch seconds (double precision): exact enough for a frame, the
same on SQLite and PostgreSQL, and cheap to compare in range queries.
A pruned segment keeps its row (``status = "pruned"``) as the tombstone that
keeps the chain verifiable after its file is gone.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from watchwall.config.database import Base

SEGMENT_OPEN = "open"  # being written; closed by the recorder or by recovery after a crash
SEGMENT_CLOSED = "closed"
SEGMENT_RECOVERED = "recovered"  # closed by recovery from what was on disk
SEGMENT_PRUNED = "pruned"  # file deleted by retention; the row is the tombstone
SEGMENT_EMPTY = "empty"  # opened but nothing playable reached the disk
# left open by an ingest node whose camera another node took over (a newer lease epoch): out of the
# chain; its file stays on the old node's disk, and a node_failover gap covers its span
SEGMENT_SUPERSEDED = "superseded"

GAP_CAMERA_OFFLINE = "camera_offline"
GAP_STALLED = "stalled"
GAP_RECORDER_STOPPED = "recorder_stopped"
GAP_RECORDER_CRASHED = "recorder_crashed"
GAP_DROPPED = "dropped"
GAP_DISK_FULL = "disk_full"
GAP_WRITE_ERROR = "write_error"
GAP_NODE_FAILOVER = "node_failover"  # the camera's ingest node died; another took it over
GAP_LEASE_LAPSED = "lease_lapsed"  # its node could not renew the camera's lease in time and paused


class RecordingSegment(Base):
    __tablename__ = "recording_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(63), nullable=False)
    path: Mapped[str] = mapped_column(String(512), nullable=False, unique=True)  # relative to recordings_dir
    start_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    end_utc: Mapped[float | None] = mapped_column(Float(precision=53))
    duration_s: Mapped[float | None] = mapped_column(Float(precision=53))
    bytes: Mapped[int | None] = mapped_column(Integer)
    codec: Mapped[str] = mapped_column(String(32), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str | None] = mapped_column(String(64))
    prev_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=SEGMENT_OPEN)
    pruned_utc: Mapped[float | None] = mapped_column(Float(precision=53))
    pruned_reason: Mapped[str | None] = mapped_column(String(200))
    # in a cluster: the lease epoch the segment was written under, and the node whose disk holds it
    epoch: Mapped[int | None] = mapped_column(Integer)
    node: Mapped[str | None] = mapped_column(String(63))

    __table_args__ = (
        Index("ix_recording_segments_camera_start", "camera_id", "start_utc"),
        Index("ix_recording_segments_status", "status"),
    )

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"


class RecordingDaily(Base):
    """One camera's recorded seconds over one closed local day, kept for the reports.

    Computed from the segments when first asked for (``watchwall.reports.recording_daily``);
    triggers of migration 0017 delete a day's row whenever a segment touching it changes.
    """

    __tablename__ = "recording_daily"

    camera_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    day_start_utc: Mapped[float] = mapped_column(Float(precision=53), primary_key=True)
    day_end_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    day: Mapped[str] = mapped_column(String(10), nullable=False)  # local date, ISO
    seconds: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)  # of the segments started that day
    segments: Mapped[int] = mapped_column(Integer, nullable=False)

    @property
    def on_disk(self) -> bool:
        return self.status in (SEGMENT_CLOSED, SEGMENT_RECOVERED, SEGMENT_OPEN)


class RecordingGap(Base):
    __tablename__ = "recording_gaps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(63), nullable=False)
    start_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    end_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_recording_gaps_camera_start", "camera_id", "start_utc"),)

    @property
    def duration_s(self) -> float:
        return self.end_utc - self.start_utc


class RecordingHold(Base):
    """A range kept as evidence: retention never deletes a segment that overlaps it."""

    __tablename__ = "recording_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(63), nullable=False)
    start_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    end_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # "export" or "inspector"
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)

    __table_args__ = (Index("ix_recording_holds_camera_start", "camera_id", "start_utc"),)


def last_chained_sha256(session, camera_id: str, before_utc: float | None = None) -> str | None:
    """The hash a segment of ``camera_id`` starting at ``before_utc`` links to (pruned tombstones count)."""
    row = session.execute(
        select(RecordingSegment.sha256)
        .where(
            RecordingSegment.camera_id == camera_id,
            RecordingSegment.sha256.is_not(None),
            RecordingSegment.start_utc < before_utc
            if before_utc is not None
            else RecordingSegment.id.is_not(None),
        )
        .order_by(RecordingSegment.start_utc.desc(), RecordingSegment.id.desc())
        .limit(1)
    ).first()
    return row[0] if row else None


def last_recorded_end(session, camera_id: str) -> tuple[float, str] | None:
    """(end, status) of the camera's latest segment that holds video, or None."""
    row = session.execute(
        select(RecordingSegment.end_utc, RecordingSegment.status)
        .where(RecordingSegment.camera_id == camera_id, RecordingSegment.end_utc.is_not(None))
        .order_by(RecordingSegment.start_utc.desc(), RecordingSegment.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def close_segment_row(session, row: RecordingSegment, *, end_utc: float, size: int, sha256: str, status: str):
    """Enter a finished segment in the index and link it into its camera's hash chain."""
    row.prev_sha256 = last_chained_sha256(session, row.camera_id, row.start_utc)
    row.end_utc = end_utc
    row.duration_s = max(0.0, end_utc - row.start_utc)
    row.bytes = size
    row.sha256 = sha256
    row.status = status
    return row


def supersede_open_segments(session, camera_id: str, epoch: int) -> float | None:
    """At a takeover: the camera's segments still open under an older epoch leave the chain.

    Returns the earliest start among them (where the old owner's indexed video ends), or None.
    """
    stale = (
        (RecordingSegment.camera_id == camera_id)
        & (RecordingSegment.status == SEGMENT_OPEN)
        & ((RecordingSegment.epoch < epoch) | RecordingSegment.epoch.is_(None))
    )
    since = session.scalar(select(func.min(RecordingSegment.start_utc)).where(stale))
    session.execute(update(RecordingSegment).where(stale).values(status=SEGMENT_SUPERSEDED))
    return since
