"""The headline figures of the command wall, in one dict (also ``watchwall metrics --json``)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from metrics import cases, compliance, resources
from metrics.localtime import SHANGHAI, local_day

Executor = Session | Connection


def headline_figures(
    executor: Executor, centres: int, now: datetime | None = None, zone: ZoneInfo = SHANGHAI
) -> dict:
    """Every headline figure; ``centres`` is the number of centres in the site file.

    Compliance rates are fractions 0..1 (``None`` when nothing was owed).
    """
    now = now or datetime.now(UTC)
    today = local_day(now, zone)
    first, last = compliance.last_30_days(today)
    bases = resources.bases_by_kind(executor)
    staff = resources.staff_by_kind(executor)
    by_county = compliance.compliance_by_county(executor, first, last)
    return {
        "as_of": now.astimezone(zone).isoformat(timespec="seconds"),
        "centres": centres,
        "cases_total": cases.cases_total(executor),
        "pretrial_evaluations": cases.cases_total(executor, "pretrial_evaluation"),
        "cases_this_month": cases.cases_this_month(executor, today),
        "bases": {
            "education": bases["education"],
            "public_welfare": bases["public_welfare"],
            "employment": bases["employment"],
        },
        "staff": {
            "full_time": staff["full_time"],
            "public_welfare_posts": staff["public_welfare_post"],
            "certified_officers": staff["certified_officer"],
        },
        "psych_assessed": resources.psych_assessed(executor),
        "reoffending_risk": resources.reoffending_risk(executor),
        "subjects_under_supervision": compliance.subjects_under_supervision(executor, today),
        "archives_digitised": resources.archives_digitised(executor),
        "checkin_compliance": {
            "today": compliance.today_compliance(executor, now, zone),
            "last_30_days": compliance.compliance_between(executor, first, last).rate,
            "by_county": {county: figures.rate for county, figures in by_county.items()},
        },
    }
