"""What a report covers: a scope (one county, or the city) and a period (a local day or month).

Bad requests are refused here with the reason, before anything is read or written: a day or
month that has not begun, a malformed date, a county the site does not have.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from watchwall.config.errors import UserError
from watchwall.config.site import Site

CITY = "city"
DAILY = "daily"
MONTHLY = "monthly"
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


class ReportRequestError(UserError):
    """A report that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class ReportPeriod:
    kind: str  # DAILY or MONTHLY
    first: date
    last: date  # inclusive

    @property
    def key(self) -> str:
        """``2026-11-30`` for a day, ``2026-11`` for a month."""
        return self.first.isoformat() if self.kind == DAILY else self.first.strftime("%Y-%m")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds_utc(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the period in UTC."""
        start = datetime.combine(self.first, time(0), tzinfo=zone)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def as_of(self, zone: ZoneInfo, now: datetime) -> datetime:
        """The instant the report's figures are taken at: the period's last second, or ``now``
        while the period is still running (the figures of ``watchwall metrics --at`` that instant)."""
        last_second = datetime.combine(self.last, time(23, 59, 59), tzinfo=zone).astimezone(UTC)
        return min(last_second, now.astimezone(UTC).replace(microsecond=0))


@dataclass(frozen=True)
class ReportRequest:
    scope: str  # a county code, or CITY
    period: ReportPeriod
    language: str = "zh-CN"

    @property
    def report_id(self) -> str:
        """``qinzhou-daily-2026-11-30-zh-CN``: names the file and the audit entry."""
        return f"{self.scope}-{self.period.kind}-{self.period.key}-{self.language}"


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportRequestError(f"--day {text!r} is not a date like 2026-11-30") from None


def parse_month(text: str) -> tuple[int, int]:
    match = MONTH_PATTERN.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ReportRequestError(f"--month {text!r} is not a month like 2026-11") from None
    return int(match.group(1)), int(match.group(2))


def daily(day: date) -> ReportPeriod:
    return ReportPeriod(DAILY, day, day)


def monthly(year: int, month: int) -> ReportPeriod:
    first = date(year, month, 1)
    return ReportPeriod(MONTHLY, first, date(year, month, calendar.monthrange(year, month)[1]))


def check_period(period: ReportPeriod, today: date) -> None:
    if period.first > today:
        what = "day" if period.kind == DAILY else "month"
        raise ReportRequestError(
            f"the {what} {period.key} has not begun yet (today is {today.isoformat()} in the site's zone)"
        )


def check_scope(scope: str, site: Site) -> None:
    if scope == CITY:
        return
    codes = [centre.code for centre in site.counties]
    if scope not in codes:
        raise ReportRequestError(f"unknown county {scope!r} (the site's counties: {', '.join(codes)})")


def make_request(
    *,
    site: Site,
    zone: ZoneInfo,
    county: str | None,
    day: str | None,
    month: str | None,
    language: str = "zh-CN",
    now: datetime | None = None,
) -> ReportRequest:
    """A checked request from the CLI's or the page's words; :class:`ReportRequestError` if not."""
    if (day is None) == (month is None):
        raise ReportRequestError("give exactly one of --day YYYY-MM-DD or --month YYYY-MM")
    period = daily(parse_day(day)) if day is not None else monthly(*parse_month(month))
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    check_period(period, today)
    scope = county if county is not None else CITY
    check_scope(scope, site)
    return ReportRequest(scope, period, "en" if language.lower().startswith("en") else "zh-CN")
