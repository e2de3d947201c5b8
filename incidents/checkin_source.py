"""Check-ins as incident sources: every slot missed once its window has closed, every out-of-area check.

Read from the case database (whoever imported the checks: the REST API, ``watchwall import``);
each problem has its key, so reading the same rows again opens nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine

from watchwall.config.checkin_windows import CheckinWindows
from watchwall.incidents.models import Incident
from watchwall.incidents.store import Report
from watchwall.metrics.checkin_windows import recently_closed
from watchwall.metrics.compliance import unsatisfied_slots
from watchwall.metrics.masking import mask_name
from watchwall.metrics.models import LocationCheck, Subject

LOOK_BACK = timedelta(
    hours=24
)  # windows closed longer ago than this open no incident (no backfill of history)


def missed_key(subject: str, day: date, slot: str) -> str:
    return f"subject:{subject}:missed_checkin:{day.isoformat()}:{slot}"


def out_of_area_key(check_external_id: str) -> str:
    return f"check:{check_external_id}:out_of_area"


def _known_keys(engine: Engine, keys: list[str]) -> set[str]:
    found: set[str] = set()
    with engine.connect() as connection:
        for index in range(0, len(keys), 500):
            chunk = keys[index : index + 500]
            found.update(
                connection.execute(
                    select(Incident.problem_key).where(Incident.problem_key.in_(chunk))
                ).scalars()
            )
    return found


def missed_slot_reports(
    engine: Engine, now: datetime, windows: CheckinWindows, zone: ZoneInfo, done: set[tuple[date, str]]
) -> list[Report]:
    """Reports for the slots of windows closed in the last day not yet looked at (``done`` remembers)."""
    reports: list[Report] = []
    for day, slot, closed_at in recently_closed(now, LOOK_BACK, windows, zone):
        if (day, slot) in done:
            continue
        with engine.connect() as connection:
            rows = [
                r
                for r in unsatisfied_slots(connection, day, (slot,), None, "missed")
                if r["outcome"] == "missed"
            ]
        known = _known_keys(engine, [missed_key(r["subject"], day, slot) for r in rows])
        for row in rows:
            key = missed_key(row["subject"], day, slot)
            if key in known:
                continue
            reports.append(
                Report(
                    kind="missed_checkin",
                    county=row["county"],
                    centre=row["county"],
                    problem_key=key,
                    at=closed_at.astimezone(now.tzinfo),
                    subject_ref=row["name"],
                    detail={"day": day.isoformat(), "slot": slot},
                )
            )
        done.add((day, slot))
    return reports


def out_of_area_reports(engine: Engine, now: datetime, after_id: int) -> tuple[list[Report], int]:
    """Reports for out-of-area checks with an id above ``after_id`` made in the last day; the new high-water id."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                LocationCheck.id,
                LocationCheck.external_id,
                LocationCheck.county,
                LocationCheck.checked_at,
                LocationCheck.latitude,
                LocationCheck.longitude,
                Subject.name,
            )
            .join(Subject, Subject.id == LocationCheck.subject_id)
            .where(
                LocationCheck.id > after_id,
                LocationCheck.result == "out_of_area",
                LocationCheck.checked_at >= now - LOOK_BACK,
            )
            .order_by(LocationCheck.id)
            .limit(5000)
        ).all()
    if not rows:
        return [], after_id
    known = _known_keys(engine, [out_of_area_key(row.external_id) for row in rows])
    reports = [
        Report(
            kind="out_of_area",
            county=row.county,
            centre=row.county,
            problem_key=out_of_area_key(row.external_id),
            at=row.checked_at,
            subject_ref=mask_name(row.name),
            detail={"check": row.external_id, "latitude": row.latitude, "longitude": row.longitude},
        )
        for row in rows
        if out_of_area_key(row.external_id) not in known
    ]
    return reports, rows[-1].id
