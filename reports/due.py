"""Which scheduled reports are due, and making the missing ones.

The daily report of a local day is due from 00:30 the next day; the monthly report of a month
from 00:30 on the 1st of the next. Each county and the city get one, in the installation's
language, kept in the reports folder. Only the latest day and month are made: a report that
exists is not made again, and a server that was down for a week does not back-fill the week
(``watchwall report`` makes any day on demand).

Deciding is cheap (file checks) and runs in the serving process; making them is
``python -m watchwall.reports.make_due``, a separate low-priority process.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from watchwall.config.site import Site
from watchwall.reports.period import CITY, ReportRequest, daily, monthly
from watchwall.reports.store import has_report

DUE_AFTER = time(0, 30)


def due_requests(site: Site, zone: ZoneInfo, now: datetime, language: str) -> list[ReportRequest]:
    """The reports due at ``now``: yesterday's daily (from 00:30) and last month's monthly, per scope."""
    shifted = now.astimezone(zone) - timedelta(hours=DUE_AFTER.hour, minutes=DUE_AFTER.minute)
    day = shifted.date() - timedelta(days=1)
    last_month = shifted.date().replace(day=1) - timedelta(days=1)
    periods = [daily(day), monthly(last_month.year, last_month.month)]
    scopes = [centre.code for centre in site.counties] + [CITY]
    return [ReportRequest(scope, period, language) for period in periods for scope in scopes]


def missing_requests(site: Site, settings, now: datetime) -> list[ReportRequest]:
    return [
        request
        for request in due_requests(site, settings.zone, now, settings.language)
        if not has_report(settings.data_dir, request)
    ]
