"""UTC storage, local (Asia/Shanghai) days and check-in slots.

Times are stored in UTC. Days are keyed in the site's zone: a check at 23:30 UTC is
07:30 the next morning in Shanghai, so it belongs to the next local day's morning slot.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTERNOON_STARTS = time(12, 0)
SLOTS = ("morning", "afternoon")


def as_utc(moment: datetime, zone: ZoneInfo = SHANGHAI) -> datetime:
    """``moment`` in UTC; a naive time is read as local time in ``zone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def local_day(moment: datetime, zone: ZoneInfo = SHANGHAI) -> date:
    return as_utc(moment, zone).astimezone(zone).date()


def slot_of(moment: datetime, zone: ZoneInfo = SHANGHAI) -> str:
    """The check-in slot a moment falls in: before local noon is the morning slot."""
    local = as_utc(moment, zone).astimezone(zone)
    return "morning" if local.time() < AFTERNOON_STARTS else "afternoon"


def day_bounds_utc(day: date, zone: ZoneInfo = SHANGHAI) -> tuple[datetime, datetime]:
    """[start, end) of a local day, in UTC."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def today_in(zone: ZoneInfo = SHANGHAI, now: datetime | None = None) -> date:
    return local_day(now or datetime.now(UTC), zone)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last`` inclusive."""
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
