"""A video-verified check-in: the recorded span linked to a location check, and its face-presence verdict.

One row per check that named a camera. It is written with the check (same transaction), as
``pending``; the worker (:mod:`watchwall.dashboard.checkin_video_worker`) claims it once the span
is recorded and stores the verdict. The pending rows are the queue: a restart finds them again.
No face data is stored: the counts, the hashes of the segments looked at, one snapshot.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchwall.config.database import Base
from watchwall.metrics.models import BigKey

PENDING = "pending"  # waiting for its span to be recorded
RUNNING = "running"  # claimed by a worker (claimed_utc says when; a stale claim is taken again)
DONE = "done"


class CheckinVideo(Base):
    __tablename__ = "checkin_video"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[int] = mapped_column(
        BigKey, ForeignKey("location_checks.id", ondelete="CASCADE"), unique=True
    )
    check_external_id: Mapped[str] = mapped_column(String(64), unique=True)
    county: Mapped[str] = mapped_column(String(32))
    camera_id: Mapped[str] = mapped_column(String(63))
    span_start_utc: Mapped[float] = mapped_column(Float(precision=53))
    span_end_utc: Mapped[float] = mapped_column(Float(precision=53))
    state: Mapped[str] = mapped_column(String(16))
    due_utc: Mapped[float] = mapped_column(Float(precision=53))  # look no earlier than this
    give_up_utc: Mapped[float] = mapped_column(Float(precision=53))  # check with what is there by then
    claimed_utc: Mapped[float | None] = mapped_column(Float(precision=53))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    checked_utc: Mapped[float | None] = mapped_column(Float(precision=53))
    face_present: Mapped[bool | None] = mapped_column(Boolean)
    frames_with_face: Mapped[int | None] = mapped_column(Integer)
    frames_sampled: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(32))
    segment_hashes: Mapped[str | None] = mapped_column(Text)  # JSON list of sha256, oldest first
    snapshot_jpeg: Mapped[bytes | None] = mapped_column(LargeBinary)
    snapshot_utc: Mapped[float | None] = mapped_column(Float(precision=53))
    incident_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_checkin_video_state_due", "state", "due_utc"),
        Index("ix_checkin_video_county_span", "county", "span_start_utc"),
    )
