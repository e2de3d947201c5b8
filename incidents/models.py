"""The incidents tables: one row per continuing problem, its notes log and its evidence.

Times are aware UTC (``metrics.models.UTCDateTime``). ``problem_key`` joins the reports of
one continuing problem (``incidents.kinds.problem_key``); ``version`` rises with every
change, so that a form showing an older version is refused as stale.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from watchwall.config.database import Base
from watchwall.metrics.models import UTCDateTime


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_problem_key_opened", "problem_key", "opened_at"),
        Index("ix_incidents_state_county", "state", "county"),
        # one incident not closed per problem: two racing openers make one (migration 0016)
        Index(
            "uq_incidents_open_problem_key",
            "problem_key",
            unique=True,
            postgresql_where=text("state <> 'closed'"),
            sqlite_where=text("state <> 'closed'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    county: Mapped[str] = mapped_column(String(32))  # the centre's code whose supervisors handle it
    centre: Mapped[str | None] = mapped_column(String(32))
    room: Mapped[str | None] = mapped_column(String(64))
    camera_id: Mapped[str | None] = mapped_column(String(128), index=True)
    subject_ref: Mapped[str | None] = mapped_column(String(64))  # masked, as on the centre page
    problem_key: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    handling_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(64))
    close_reason: Mapped[str | None] = mapped_column(String(32))
    close_note: Mapped[str | None] = mapped_column(Text)
    ack_deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=1)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    detail: Mapped[str | None] = mapped_column(Text)  # JSON of the first report


class IncidentNote(Base):
    """The notes log: every transition and comment, with who and when."""

    __tablename__ = "incident_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)


class IncidentEvidence(Base):
    """Linked evidence: a recorded span of the camera, a snapshot, a bookmark."""

    __tablename__ = "incident_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # span | snapshot | bookmark
    camera_id: Mapped[str | None] = mapped_column(String(128))
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ref: Mapped[str | None] = mapped_column(String(512))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
