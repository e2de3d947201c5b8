"""The case database: people under supervision, their location checks, platform cases,
terminal transactions, bases, staff, assessments, archives, and the daily roll-ups.

Times are UTC (``timestamptz`` on PostgreSQL; SQLite returns them as aware UTC through
:class:`UTCDateTime`). Day keys are local dates in the site's zone (Asia/Shanghai), set
when a row is written, so that figures group by indexed columns and never by
dialect-specific date functions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    TypeDecorator,
)
from sqlalchemy.orm import Mapped, mapped_column

from watchwall.config.database import Base

CATEGORIES = ("probation", "parole", "temporary_out_of_prison", "public_surveillance")
CATEGORY_NAMES_ZH = {
    "probation": "缓刑",
    "parole": "假释",
    "temporary_out_of_prison": "暂予监外执行",
    "public_surveillance": "管制",
}
SUPERVISION_LEVELS = ("strict", "ordinary", "lenient")
CHECK_METHODS = ("electronic", "dingtalk", "home_visit", "video")
CHECK_METHOD_NAMES_ZH = {
    "electronic": "信息化核查",
    "dingtalk": "钉钉打卡",
    "home_visit": "入户走访",
    "video": "视频核查",  # a check at a room camera, its face presence checked in the recording
}
CHECK_RESULTS = ("ok", "missed", "out_of_area")
CASE_TYPES = ("correction_reception", "committal_to_prison", "rewards_punishments", "pretrial_evaluation")
CASE_TYPE_NAMES_ZH = {
    "correction_reception": "矫正衔接",
    "committal_to_prison": "收监执行",
    "rewards_punishments": "刑事奖惩",
    "pretrial_evaluation": "审前社会调查评估",
}
SOURCE_AGENCIES = ("police", "procuratorate", "court", "prison")
TERMINAL_KINDS = (
    "registration",
    "information_collection",
    "daily_report",
    "education",
    "public_welfare",
    "travel_request",
    "travel_return",
    "residence_change_request",
    "information_query",
)
BASE_KINDS = ("education", "public_welfare", "employment")
STAFF_KINDS = ("full_time", "public_welfare_post", "certified_officer")

# BIGINT keys on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the auto-numbered rowid.
BigKey = BigInteger().with_variant(Integer(), "sqlite")


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every dialect."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Subject(Base):
    """A person under community correction. ``name`` is never shown unmasked."""

    __tablename__ = "subjects"
    __table_args__ = (
        _one_of("category", CATEGORIES, "category"),
        _one_of("supervision_level", SUPERVISION_LEVELS, "supervision_level"),
        Index("ix_subjects_county_dates", "county", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    county: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    supervision_level: Mapped[str] = mapped_column(String(16))


class LocationCheck(Base):
    """One location check of a subject; ``local_day`` and ``slot`` derive from ``checked_at``."""

    __tablename__ = "location_checks"
    __table_args__ = (
        _one_of("method", CHECK_METHODS, "method"),
        _one_of("result", CHECK_RESULTS, "result"),
        _one_of("slot", ("morning", "afternoon"), "slot"),
        # covering, in this order so that one day's slot is read in subject order from the index alone
        # (today's missed slots, the roll-up); with subject_id first SQLite seeks once per subject
        Index(
            "ix_location_checks_day_slot_subject",
            "local_day",
            "slot",
            "subject_id",
            "result",
            "county",
        ),
        Index("ix_location_checks_subject_day", "subject_id", "local_day"),
    )

    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    county: Mapped[str] = mapped_column(String(32))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    local_day: Mapped[date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    result: Mapped[str] = mapped_column(String(16))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class Case(Base):
    """A case received from the cross-department platform (政法跨部门协同平台)."""

    __tablename__ = "cases"
    __table_args__ = (
        _one_of("case_type", CASE_TYPES, "case_type"),
        _one_of("source_agency", SOURCE_AGENCIES, "source_agency"),
        Index("ix_cases_received_month_county", "received_month", "county"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    case_type: Mapped[str] = mapped_column(String(32))
    source_agency: Mapped[str] = mapped_column(String(16))
    county: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_month: Mapped[str] = mapped_column(String(7))  # local "YYYY-MM"
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TerminalTransaction(Base):
    """A transaction at a self-service terminal in a centre."""

    __tablename__ = "terminal_transactions"
    __table_args__ = (
        _one_of("kind", TERMINAL_KINDS, "kind"),
        Index("ix_terminal_transactions_local_day_county", "local_day", "county"),
    )

    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id", ondelete="SET NULL"))
    county: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    local_day: Mapped[date] = mapped_column(Date)


class SupportBase(Base):
    """An education, public-welfare or employment base (教育/公益/就业基地)."""

    __tablename__ = "support_bases"
    __table_args__ = (_one_of("kind", BASE_KINDS, "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    county: Mapped[str] = mapped_column(String(32), index=True)


class StaffMember(Base):
    __tablename__ = "staff_members"
    __table_args__ = (_one_of("kind", STAFF_KINDS, "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    county: Mapped[str] = mapped_column(String(32), index=True)


class PsychAssessment(Base):
    __tablename__ = "psych_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    assessed_on: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)
    reoffending_risk: Mapped[bool] = mapped_column(Boolean)


class ArchiveDigitisation(Base):
    """A batch of paper archive files digitised in a county."""

    __tablename__ = "archive_digitisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county: Mapped[str] = mapped_column(String(32), index=True)
    digitised_on: Mapped[date] = mapped_column(Date)
    file_count: Mapped[int] = mapped_column(Integer)


class ComplianceDaily(Base):
    """Roll-up: one row per county and local day; rebuilt by :mod:`watchwall.metrics.rollup`."""

    __tablename__ = "compliance_daily"

    county: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    required_slots: Mapped[int] = mapped_column(Integer)
    satisfied_slots: Mapped[int] = mapped_column(Integer)
    out_of_area_slots: Mapped[int] = mapped_column(Integer)
    missed_slots: Mapped[int] = mapped_column(Integer)


class ChecksDailyByMethod(Base):
    """Roll-up: checks per county, local day and method, by result."""

    __tablename__ = "checks_daily_by_method"

    county: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    method: Mapped[str] = mapped_column(String(16), primary_key=True)
    checks: Mapped[int] = mapped_column(Integer)
    ok: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    out_of_area: Mapped[int] = mapped_column(Integer)


METRICS_TABLES = tuple(
    model.__table__
    for model in (
        Subject,
        LocationCheck,
        Case,
        TerminalTransaction,
        SupportBase,
        StaffMember,
        PsychAssessment,
        ArchiveDigitisation,
        ComplianceDaily,
        ChecksDailyByMethod,
    )
)
METRICS_TABLE_NAMES = frozenset(table.name for table in METRICS_TABLES)
