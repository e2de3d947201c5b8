"""The daily roll-ups that every compliance figure reads, so no figure scans the raw checks.

:func:`rebuild_rollups` recomputes ``compliance_daily`` and ``checks_daily_by_method`` for a
range of local days from ``subjects`` and ``location_checks``. Demo data and imports call it
for the days they touched.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, and_, case, delete, func, insert, or_, select

from watchwall.metrics.compliance_rules import SLOTS_PER_DAY, DayCompliance, active_subjects_by_day
from watchwall.metrics.models import ChecksDailyByMethod, ComplianceDaily, LocationCheck, Subject


def _active_spans(connection: Connection, first: date, last: date):
    query = select(Subject.county, Subject.start_date, Subject.end_date).where(
        Subject.start_date <= last, or_(Subject.end_date.is_(None), Subject.end_date >= first)
    )
    return connection.execute(query).all()


def _slot_outcomes(
    connection: Connection, first: date, last: date
) -> dict[tuple[str, date], tuple[int, int]]:
    """(satisfied slots, out-of-area slots) per (county, day), counting active subjects only."""
    checks = LocationCheck.__table__
    per_slot = (
        select(
            checks.c.county,
            checks.c.local_day,
            func.max(case((checks.c.result == "ok", 1), else_=0)).label("satisfied"),
            func.max(case((checks.c.result == "out_of_area", 1), else_=0)).label("out_of_area"),
        )
        .join(Subject.__table__, Subject.id == checks.c.subject_id)
        .where(
            checks.c.local_day.between(first, last),
            Subject.start_date <= checks.c.local_day,
            or_(Subject.end_date.is_(None), Subject.end_date >= checks.c.local_day),
        )
        .group_by(checks.c.county, checks.c.local_day, checks.c.subject_id, checks.c.slot)
        .subquery()
    )
    query = select(
        per_slot.c.county,
        per_slot.c.local_day,
        func.sum(per_slot.c.satisfied),
        func.sum(case((and_(per_slot.c.satisfied == 0, per_slot.c.out_of_area == 1), 1), else_=0)),
    ).group_by(per_slot.c.county, per_slot.c.local_day)
    return {(county, day): (int(sat), int(ooa)) for county, day, sat, ooa in connection.execute(query)}


def rebuild_compliance(connection: Connection, first: date, last: date) -> int:
    """Recompute ``compliance_daily`` for local days [first, last]; return rows written."""
    active = active_subjects_by_day(_active_spans(connection, first, last), first, last)
    outcomes = _slot_outcomes(connection, first, last)
    rows = []
    for key in sorted(set(active) | set(outcomes)):
        county, day = key
        satisfied, out_of_area = outcomes.get(key, (0, 0))
        day_figures = DayCompliance(active.get(key, 0) * SLOTS_PER_DAY, satisfied, out_of_area)
        rows.append(
            {
                "county": county,
                "day": day,
                "required_slots": day_figures.required,
                "satisfied_slots": day_figures.satisfied,
                "out_of_area_slots": day_figures.out_of_area,
                "missed_slots": day_figures.missed,
            }
        )
    connection.execute(delete(ComplianceDaily).where(ComplianceDaily.day.between(first, last)))
    if rows:
        connection.execute(insert(ComplianceDaily), rows)
    return len(rows)


def rebuild_checks_by_method(connection: Connection, first: date, last: date) -> int:
    checks = LocationCheck.__table__
    query = (
        select(
            checks.c.county,
            checks.c.local_day,
            checks.c.method,
            func.count(),
            func.sum(case((checks.c.result == "ok", 1), else_=0)),
            func.sum(case((checks.c.result == "missed", 1), else_=0)),
            func.sum(case((checks.c.result == "out_of_area", 1), else_=0)),
        )
        .where(checks.c.local_day.between(first, last))
        .group_by(checks.c.county, checks.c.local_day, checks.c.method)
    )
    rows = [
        {
            "county": county,
            "day": day,
            "method": method,
            "checks": int(total),
            "ok": int(ok),
            "missed": int(missed),
            "out_of_area": int(out_of_area),
        }
        for county, day, method, total, ok, missed, out_of_area in connection.execute(query)
    ]
    connection.execute(delete(ChecksDailyByMethod).where(ChecksDailyByMethod.day.between(first, last)))
    if rows:
        connection.execute(insert(ChecksDailyByMethod), rows)
    return len(rows)


def rebuild_rollups(connection: Connection, first: date, last: date) -> None:
    """Recompute both roll-ups for local days [first, last] (inclusive)."""
    rebuild_compliance(connection, first, last)
    rebuild_checks_by_method(connection, first, last)
