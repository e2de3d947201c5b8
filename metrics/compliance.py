"""Check-in compliance figures, read from the daily roll-ups (see :mod:`watchwall.metrics.rollup`).

Counting rules live in :mod:`watchwall.metrics.compliance_rules`. "Today" is the site's local day;
its rate counts only the slots already owed (the afternoon slot from local noon).
"Last 30 days" are the 30 complete local days before today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, or_, select
from sqlalchemy.orm import Session

from watchwall.metrics.compliance_rules import DayCompliance, compliance_rate, slots_due
from watchwall.metrics.localtime import SHANGHAI, SLOTS, local_day
from watchwall.metrics.masking import mask_name
from watchwall.metrics.models import ChecksDailyByMethod, ComplianceDaily, LocationCheck, Subject

Executor = Session | Connection


def _sums(executor: Executor, first: date, last: date, by_county: bool = False, by_day: bool = False):
    keys = []
    if by_county:
        keys.append(ComplianceDaily.county)
    if by_day:
        keys.append(ComplianceDaily.day)
    query = (
        select(
            *keys,
            func.coalesce(func.sum(ComplianceDaily.required_slots), 0),
            func.coalesce(func.sum(ComplianceDaily.satisfied_slots), 0),
            func.coalesce(func.sum(ComplianceDaily.out_of_area_slots), 0),
        )
        .where(ComplianceDaily.day.between(first, last))
        .group_by(*keys)
        .order_by(*keys)
    )
    return executor.execute(query).all()


def compliance_between(executor: Executor, first: date, last: date) -> DayCompliance:
    (required, satisfied, out_of_area) = _sums(executor, first, last)[0]
    return DayCompliance(int(required), int(satisfied), int(out_of_area))


def compliance_by_county(executor: Executor, first: date, last: date) -> dict[str, DayCompliance]:
    return {
        county: DayCompliance(int(required), int(satisfied), int(out_of_area))
        for county, required, satisfied, out_of_area in _sums(executor, first, last, by_county=True)
    }


def compliance_by_day(
    executor: Executor, first: date, last: date, county: str | None = None
) -> dict[date, DayCompliance]:
    if county is None:
        rows = _sums(executor, first, last, by_day=True)
        return {day: DayCompliance(int(r), int(s), int(o)) for day, r, s, o in rows}
    rows = _sums(executor, first, last, by_county=True, by_day=True)
    return {day: DayCompliance(int(r), int(s), int(o)) for c, day, r, s, o in rows if c == county}


def checks_by_method(
    executor: Executor, first: date, last: date, county: str | None = None
) -> dict[str, dict[str, int]]:
    """Checks per method in [first, last] (of one county, or all): {method: {checks, ok, missed, out_of_area}}."""
    query = (
        select(
            ChecksDailyByMethod.method,
            func.sum(ChecksDailyByMethod.checks),
            func.sum(ChecksDailyByMethod.ok),
            func.sum(ChecksDailyByMethod.missed),
            func.sum(ChecksDailyByMethod.out_of_area),
        )
        .where(ChecksDailyByMethod.day.between(first, last))
        .group_by(ChecksDailyByMethod.method)
        .order_by(ChecksDailyByMethod.method)
    )
    if county is not None:
        query = query.where(ChecksDailyByMethod.county == county)
    return {
        method: {"checks": int(c), "ok": int(ok), "missed": int(m), "out_of_area": int(o)}
        for method, c, ok, m, o in executor.execute(query)
    }


def last_30_days(today: date) -> tuple[date, date]:
    return today - timedelta(days=30), today - timedelta(days=1)


def subjects_under_supervision(executor: Executor, day: date) -> int:
    query = (
        select(func.count())
        .select_from(Subject)
        .where(Subject.start_date <= day, or_(Subject.end_date.is_(None), Subject.end_date >= day))
    )
    return int(executor.execute(query).scalar_one())


def today_compliance(
    executor: Executor, now: datetime | None = None, zone: ZoneInfo = SHANGHAI
) -> float | None:
    """Today's rate: satisfied slots over the slots owed at ``now`` by every subject active today
    (so a day without any check yet reads 0, not "no data")."""
    now = now or datetime.now(UTC)
    today = local_day(now, zone)
    owed = subjects_under_supervision(executor, today) * slots_due(now, zone)
    return compliance_rate(compliance_between(executor, today, today).satisfied, owed)


def _check_in_slot(day: date, slot: str, result: str):
    """EXISTS a check of the outer subject in ``slot`` of ``day`` with ``result``."""
    return (
        select(LocationCheck.id)
        .where(
            LocationCheck.local_day == day,
            LocationCheck.slot == slot,
            LocationCheck.subject_id == Subject.id,
            LocationCheck.result == result,
        )
        .exists()
    )


def missed_today(
    executor: Executor, now: datetime | None = None, zone: ZoneInfo = SHANGHAI, county: str | None = None
) -> list[dict]:
    """Subjects with an owed slot today not satisfied: masked name, county, slot, outcome.

    One index seek per active subject and slot in the covering index
    (local_day, slot, subject_id, result, county); only unsatisfied slots leave the database.
    """
    now = now or datetime.now(UTC)
    today = local_day(now, zone)
    missed = []
    for slot in SLOTS[: slots_due(now, zone)]:
        query = select(
            Subject.external_id, Subject.name, Subject.county, _check_in_slot(today, slot, "out_of_area")
        ).where(
            Subject.start_date <= today,
            or_(Subject.end_date.is_(None), Subject.end_date >= today),
            ~_check_in_slot(today, slot, "ok"),
        )
        if county is not None:
            query = query.where(Subject.county == county)
        for external_id, name, subject_county, out_of_area in executor.execute(query):
            missed.append(
                {
                    "subject": external_id,
                    "name": mask_name(name),
                    "county": subject_county,
                    "slot": slot,
                    "outcome": "out_of_area" if out_of_area else "missed",
                }
            )
    missed.sort(key=lambda row: (row["county"], row["subject"], SLOTS.index(row["slot"])))
    return missed
