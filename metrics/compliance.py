"""Check-in compliance figures, read from the daily roll-ups (see :mod:`watchwall.metrics.rollup`).

Counting rules live in :mod:`watchwall.metrics.compliance_rules`. "Today" is the site's local day;
its rate counts only the slots already owed: those whose check-in window has closed
(:mod:`watchwall.metrics.checkin_windows`); slots whose window is open are "pending", apart.
"Last 30 days" are the 30 complete local days before today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, or_, select
from sqlalchemy.orm import Session

from watchwall.config.checkin_windows import CheckinWindows
from watchwall.metrics.checkin_windows import DEFAULT_WINDOWS, closed_slots, open_slots
from watchwall.metrics.compliance_rules import DayCompliance, compliance_rate
from watchwall.metrics.localtime import SHANGHAI, SLOTS, local_day
from watchwall.metrics.masking import mask_name
from watchwall.metrics.models import ChecksDailyByMethod, ComplianceDaily, LocationCheck, Subject

Executor = Session | Connection
PRESENT_SLACK = timedelta(minutes=1)


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


def _active_on(day: date):
    return and_(Subject.start_date <= day, or_(Subject.end_date.is_(None), Subject.end_date >= day))


def subjects_active(executor: Executor, day: date, county: str | None = None) -> int:
    query = select(func.count()).select_from(Subject).where(_active_on(day))
    if county is not None:
        query = query.where(Subject.county == county)
    return int(executor.execute(query).scalar_one())


def satisfied_in_slots(
    executor: Executor,
    day: date,
    slots: tuple[str, ...],
    county: str | None = None,
    until: datetime | None = None,
) -> int:
    """Slots of ``day`` among ``slots`` satisfied by subjects active that day (an ``ok`` check in them)."""
    total = 0
    for slot in slots:
        query = (
            select(func.count())
            .select_from(Subject)
            .where(_active_on(day), _check_in_slot(day, slot, "ok", until))
        )
        if county is not None:
            query = query.where(Subject.county == county)
        total += int(executor.execute(query).scalar_one())
    return total


def today_progress(
    executor: Executor,
    now: datetime | None = None,
    zone: ZoneInfo = SHANGHAI,
    windows: CheckinWindows = DEFAULT_WINDOWS,
    county: str | None = None,
) -> dict:
    """Today's slots at ``now``: ``done`` of the ``due`` ones (windows closed), the ``rate``
    (``None`` before the first window closes, never 0 for "nothing owed yet") and the
    ``pending`` slots (window open, not done yet)."""
    now = now or datetime.now(UTC)
    today = local_day(now, zone)
    active = subjects_active(executor, today, county)
    closed, opened = closed_slots(now, windows, zone), open_slots(now, windows, zone)
    due = active * len(closed)
    until = as_at(now)
    done = satisfied_in_slots(executor, today, closed, county, until)
    pending = active * len(opened) - satisfied_in_slots(executor, today, opened, county, until)
    return {"done": done, "due": due, "pending": pending, "rate": compliance_rate(done, due)}


def today_compliance(
    executor: Executor,
    now: datetime | None = None,
    zone: ZoneInfo = SHANGHAI,
    windows: CheckinWindows = DEFAULT_WINDOWS,
) -> float | None:
    """Today's rate: satisfied slots over the slots owed at ``now`` (windows closed) by every
    subject active today; ``None`` while nothing is owed yet."""
    return today_progress(executor, now, zone, windows)["rate"]


def _check_in_slot(day: date, slot: str, result: str, until: datetime | None = None):
    """EXISTS a check of the outer subject in ``slot`` of ``day`` with ``result`` (made by ``until``)."""
    query = select(LocationCheck.id).where(
        LocationCheck.local_day == day,
        LocationCheck.slot == slot,
        LocationCheck.subject_id == Subject.id,
        LocationCheck.result == result,
    )
    if until is not None:
        query = query.where(LocationCheck.checked_at <= until)
    return query.exists()


def as_at(now: datetime) -> datetime | None:
    """The instant checks must have been made by, for figures asked as at a past instant
    (``watchwall metrics --at``); None for the present, whose checks are all in the past already
    (and the covering index answers without reading the rows)."""
    return now if now < datetime.now(UTC) - PRESENT_SLACK else None


def unsatisfied_slots(
    executor: Executor, today: date, slots: tuple[str, ...], county: str | None, outcome_of_none: str
) -> list[dict]:
    rows = []
    for slot in slots:
        query = select(
            Subject.external_id, Subject.name, Subject.county, _check_in_slot(today, slot, "out_of_area")
        ).where(_active_on(today), ~_check_in_slot(today, slot, "ok"))
        if county is not None:
            query = query.where(Subject.county == county)
        for external_id, name, subject_county, out_of_area in executor.execute(query):
            rows.append(
                {
                    "subject": external_id,
                    "name": mask_name(name),
                    "county": subject_county,
                    "slot": slot,
                    "outcome": "out_of_area" if out_of_area else outcome_of_none,
                }
            )
    rows.sort(key=lambda row: (row["county"], row["subject"], SLOTS.index(row["slot"])))
    return rows


def missed_today(
    executor: Executor,
    now: datetime | None = None,
    zone: ZoneInfo = SHANGHAI,
    county: str | None = None,
    windows: CheckinWindows = DEFAULT_WINDOWS,
) -> list[dict]:
    """Subjects with a slot of today whose window has closed and that was not satisfied: masked
    name, county, slot, outcome.

    One index seek per active subject and slot in the covering index
    (local_day, slot, subject_id, result, county); only unsatisfied slots leave the database.
    """
    now = now or datetime.now(UTC)
    return unsatisfied_slots(
        executor, local_day(now, zone), closed_slots(now, windows, zone), county, "missed"
    )


def pending_today(
    executor: Executor,
    now: datetime | None = None,
    zone: ZoneInfo = SHANGHAI,
    county: str | None = None,
    windows: CheckinWindows = DEFAULT_WINDOWS,
) -> list[dict]:
    """Subjects whose slot's window is open now and not yet satisfied (outcome ``pending``)."""
    now = now or datetime.now(UTC)
    return unsatisfied_slots(
        executor, local_day(now, zone), open_slots(now, windows, zone), county, "pending"
    )
