"""Scheduled roll-calls: ``per_day`` a county, at random times within its working hours.

The day's plan is drawn once and kept in ``rollcall_plans``, so a restart neither redraws nor
repeats it; a planned time is claimed with one conditional UPDATE, so two web workers never fire
the same one. A time missed by more than ``late_limit_s`` (the server was down) is skipped, and
a plan drawn in the middle of a day is drawn from what is left of the window, never from the past.
A time that falls while its county is being roll-called (two times drawn close together, or a
manual roll-call) waits for that countdown to end rather than being dropped.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watchwall.config.database import session_scope
from watchwall.config.rollcall_settings import RollcallSchedule, RollcallSettings
from watchwall.rollcall.models import RollcallPlan

MAX_FIRES_PER_TICK = 8  # bounded work per tick; the rest fire on the next one


def draw_times(
    schedule: RollcallSchedule, day, zone: ZoneInfo, now: datetime, rng: random.Random
) -> list[datetime]:
    """``per_day`` sorted UTC times within the day's window (the part of it not yet past)."""
    start = datetime.combine(day, schedule.start, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day, schedule.end, tzinfo=zone).astimezone(UTC)
    start = max(start, now)
    if end <= start:
        return []
    span = (end - start).total_seconds()
    return sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(schedule.per_day))


def ensure_plans(
    engine: Engine, settings: RollcallSettings, counties: set[str], zone: ZoneInfo, now: datetime,
    rng: random.Random | None = None,
) -> int:  # fmt: skip
    """Draw today's plan of every scheduled county that has none; returns the times added."""
    day = now.astimezone(zone).date()
    day_text = day.isoformat()
    rng = rng or random.SystemRandom()
    added = 0
    for county, schedule in sorted(settings.schedule.items()):
        if schedule.per_day <= 0 or county not in counties:
            continue
        with Session(engine) as session:
            exists = session.scalar(
                select(RollcallPlan.id)
                .where(RollcallPlan.county == county, RollcallPlan.day == day_text)
                .limit(1)
            )
        if exists is not None:
            continue
        times = draw_times(schedule, day, zone, now, rng)
        try:
            with session_scope(engine) as session:
                for slot, due in enumerate(times):
                    session.add(
                        RollcallPlan(county=county, day=day_text, slot=slot, due_at=due, skipped=False)
                    )
            added += len(times)
        except IntegrityError:
            continue  # another worker drew this county's day first: theirs stands
    return added


def claim_due(engine: Engine, settings: RollcallSettings, now: datetime) -> list[RollcallPlan]:
    """The planned times due now, each claimed by this worker alone; late ones are marked skipped."""
    late = now - timedelta(seconds=settings.late_limit_s)
    claimed = []
    with session_scope(engine) as session:
        due = session.scalars(
            select(RollcallPlan)
            .where(RollcallPlan.fired_at.is_(None), RollcallPlan.due_at <= now)
            .order_by(RollcallPlan.due_at)
            .limit(MAX_FIRES_PER_TICK)
        ).all()
        for plan in due:
            skipped = plan.due_at < late
            done = session.execute(
                update(RollcallPlan)
                .where(RollcallPlan.id == plan.id, RollcallPlan.fired_at.is_(None))
                .values(fired_at=now, skipped=skipped, outcome="skipped: late" if skipped else None)
            ).rowcount
            if done and not skipped:
                session.refresh(plan)
                session.expunge(plan)
                claimed.append(plan)
    return claimed


def postpone(engine: Engine, plan_id: int) -> None:
    """Give a claimed time back (its county was busy): it is claimed again on a later tick, until
    it fires or passes the late limit."""
    with session_scope(engine) as session:
        session.execute(
            update(RollcallPlan)
            .where(RollcallPlan.id == plan_id, RollcallPlan.rollcall_id.is_(None))
            .values(fired_at=None)  # claimed as not late, so nothing else was written
        )


def record_outcome(engine: Engine, plan_id: int, outcome: str, rollcall_id: int | None = None) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(RollcallPlan)
            .where(RollcallPlan.id == plan_id)
            .values(outcome=outcome[:200], rollcall_id=rollcall_id)
        )


def plans_of(engine: Engine, day: str) -> list[dict]:
    with Session(engine) as session:
        return [
            {
                "county": plan.county,
                "slot": plan.slot,
                "due_at": plan.due_at,
                "fired_at": plan.fired_at,
                "rollcall_id": plan.rollcall_id,
                "outcome": plan.outcome,
                "skipped": plan.skipped,
            }
            for plan in session.scalars(
                select(RollcallPlan).where(RollcallPlan.day == day).order_by(RollcallPlan.due_at)
            )
        ]
