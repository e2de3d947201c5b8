"""Resource figures: bases and staff by kind and county, assessments, digitised archives."""

from __future__ import annotations

from sqlalchemy import Connection, distinct, func, select
from sqlalchemy.orm import Session

from watchwall.metrics.models import (
    BASE_KINDS,
    STAFF_KINDS,
    ArchiveDigitisation,
    PsychAssessment,
    StaffMember,
    SupportBase,
)

Executor = Session | Connection


def _by_kind(executor: Executor, model, kinds: tuple[str, ...]) -> dict[str, int]:
    counts = dict(executor.execute(select(model.kind, func.count()).group_by(model.kind)).all())
    return {kind: int(counts.get(kind, 0)) for kind in kinds}


def _by_kind_and_county(executor: Executor, model) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    query = select(model.county, model.kind, func.count()).group_by(model.county, model.kind)
    for county, kind, count in executor.execute(query):
        table.setdefault(county, {})[kind] = int(count)
    return table


def bases_by_kind(executor: Executor) -> dict[str, int]:
    return _by_kind(executor, SupportBase, BASE_KINDS)


def bases_by_county(executor: Executor) -> dict[str, dict[str, int]]:
    return _by_kind_and_county(executor, SupportBase)


def staff_by_kind(executor: Executor) -> dict[str, int]:
    return _by_kind(executor, StaffMember, STAFF_KINDS)


def staff_by_county(executor: Executor) -> dict[str, dict[str, int]]:
    return _by_kind_and_county(executor, StaffMember)


def psych_assessed(executor: Executor) -> int:
    """Subjects with at least one psychological assessment."""
    return int(executor.execute(select(func.count(distinct(PsychAssessment.subject_id)))).scalar_one())


def reoffending_risk(executor: Executor) -> int:
    """Subjects flagged for re-offending risk by any assessment."""
    query = select(func.count(distinct(PsychAssessment.subject_id))).where(
        PsychAssessment.reoffending_risk.is_(True)
    )
    return int(executor.execute(query).scalar_one())


def archives_digitised(executor: Executor) -> int:
    query = select(func.coalesce(func.sum(ArchiveDigitisation.file_count), 0))
    return int(executor.execute(query).scalar_one())


def archives_by_county(executor: Executor) -> dict[str, int]:
    query = select(ArchiveDigitisation.county, func.sum(ArchiveDigitisation.file_count)).group_by(
        ArchiveDigitisation.county
    )
    return {county: int(total) for county, total in executor.execute(query)}
