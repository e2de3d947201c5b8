"""The headline figures of the command wall, in one dict (also ``watchwall metrics --json``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from watchwall.config.checkin_windows import CheckinWindows
from watchwall.config.settings import get_settings
from watchwall.config.site import load_site
from watchwall.metrics import cases, compliance, resources
from watchwall.metrics.checkin_windows import DEFAULT_WINDOWS
from watchwall.metrics.localtime import SHANGHAI, local_day

Executor = Session | Connection


def figures_moment(today: date | None, now: datetime | None, zone: ZoneInfo) -> datetime:
    """The moment figures are taken at: ``now``; else the present when ``today`` is the current
    local day (or not given); else the last second of ``today`` (a past day is fully owed)."""
    if now is not None:
        return now
    present = datetime.now(UTC)
    if today is None or today == local_day(present, zone):
        return present
    return datetime.combine(today, time(23, 59, 59), tzinfo=zone).astimezone(UTC)


def site_centre_count() -> int:
    return len(load_site(get_settings().site).centres)


def headline_figures(
    executor: Executor,
    today: date | None = None,
    zone: ZoneInfo = SHANGHAI,
    *,
    centres: int | None = None,
    now: datetime | None = None,
    windows: CheckinWindows = DEFAULT_WINDOWS,
) -> dict:
    """Every headline figure as of ``today`` (default: now) in the site's zone.

    ``centres`` is the number of centres in the site; by default counted in the configured
    site file. Compliance rates are fractions 0..1 (``None`` when nothing was owed: today's
    before its first check-in window closes). ``today_pending`` counts the slots whose window is
    open and not yet done; they are not in today's rate.
    """
    now = figures_moment(today, now, zone)
    if centres is None:
        centres = site_centre_count()
    today = local_day(now, zone)
    first, last = compliance.last_30_days(today)
    bases = resources.bases_by_kind(executor)
    staff = resources.staff_by_kind(executor)
    by_county = compliance.compliance_by_county(executor, first, last)
    progress = compliance.today_progress(executor, now, zone, windows)
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
            "today": progress["rate"],
            "today_done": progress["done"],
            "today_due": progress["due"],
            "today_pending": progress["pending"],
            "last_30_days": compliance.compliance_between(executor, first, last).rate,
            "by_county": {county: figures.rate for county, figures in by_county.items()},
        },
    }
