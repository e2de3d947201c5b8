"""The roll-call tables: a roll-call, one call per centre it called, and the day's scheduled plan.

Times are aware UTC (``metrics.models.UTCDateTime``). A call moves ``called`` -> ``answered`` ->
``passed`` | ``failed``, or ``called`` -> ``failed`` (no answer within the countdown); every move is
one conditional UPDATE, so two workers or a late click can never both win.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchwall.config.database import Base
from watchwall.metrics.models import UTCDateTime

CALLED, ANSWERED, PASSED, FAILED = "called", "answered", "passed", "failed"
STATES = (CALLED, ANSWERED, PASSED, FAILED)
# why a call failed
NO_ANSWER, NO_FACE, NO_RECORDING = "no_answer", "no_face", "no_recording"


class Rollcall(Base):
    __tablename__ = "rollcalls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_by: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16))  # manual | scheduled
    countdown_s: Mapped[float] = mapped_column(Float)


class RollcallCall(Base):
    __tablename__ = "rollcall_calls"
    __table_args__ = (Index("ix_rollcall_calls_state_deadline", "state", "deadline_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rollcall_id: Mapped[int] = mapped_column(ForeignKey("rollcalls.id", ondelete="CASCADE"), index=True)
    county: Mapped[str] = mapped_column(String(32), index=True)  # the called centre's code
    room: Mapped[str | None] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(128))
    called_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by: Mapped[str | None] = mapped_column(String(64))
    clip_start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    clip_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # known once answered or expired
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(16))
    face_present: Mapped[bool | None] = mapped_column(Boolean)
    frames_checked: Mapped[int | None] = mapped_column(Integer)
    frames_with_face: Mapped[int | None] = mapped_column(Integer)
    verdict_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    incident_id: Mapped[int | None] = mapped_column(Integer)
    bookmark_id: Mapped[str | None] = mapped_column(String(32))
    # the clip's bookmark is added once its span is recorded; this many tries at most
    bookmark_tries: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)


class RollcallPlan(Base):
    """One scheduled roll-call of a county on a local day: drawn once, kept across restarts."""

    __tablename__ = "rollcall_plans"
    __table_args__ = (UniqueConstraint("county", "day", "slot", name="uq_rollcall_plans_county_day_slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))  # local YYYY-MM-DD
    slot: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rollcall_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(200))  # started | skipped: late | refused: why
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
