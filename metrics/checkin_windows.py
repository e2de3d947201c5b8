"""Check-in windows as at an instant: which of a day's slots are closed (owed, and missed if not
done), which are open (pending), in the site's zone. Pure functions over
:class:`watchwall.config.checkin_windows.CheckinWindows`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from watchwall.config.checkin_windows import CheckinWindows
from watchwall.metrics.localtime import SHANGHAI, SLOTS, as_utc

DEFAULT_WINDOWS = CheckinWindows()


def window_bounds(
    day: date, slot: str, windows: CheckinWindows = DEFAULT_WINDOWS, zone: ZoneInfo = SHANGHAI
) -> tuple[datetime, datetime]:
    """[start, end) of ``slot``'s window on local ``day``, as aware local times."""
    window = windows.of(slot)
    start = datetime.combine(day, window.start, tzinfo=zone)
    end = datetime.combine(day, window.end, tzinfo=zone)
    return start, end


def closed_slots(
    now: datetime, windows: CheckinWindows = DEFAULT_WINDOWS, zone: ZoneInfo = SHANGHAI
) -> tuple[str, ...]:
    """Today's slots whose window has closed at ``now``: owed, and missed when not done."""
    local = as_utc(now, zone).astimezone(zone)
    return tuple(slot for slot in SLOTS if local.time() >= windows.of(slot).end)


def open_slots(
    now: datetime, windows: CheckinWindows = DEFAULT_WINDOWS, zone: ZoneInfo = SHANGHAI
) -> tuple[str, ...]:
    """Today's slots whose window is open at ``now``: pending, not yet missed."""
    local = as_utc(now, zone).astimezone(zone).time()
    return tuple(slot for slot in SLOTS if windows.of(slot).start <= local < windows.of(slot).end)


def recently_closed(
    now: datetime, within: timedelta, windows: CheckinWindows = DEFAULT_WINDOWS, zone: ZoneInfo = SHANGHAI
) -> list[tuple[date, str, datetime]]:
    """(local day, slot, closed at) of the windows that closed in (now - within, now], oldest first."""
    local_now = as_utc(now, zone).astimezone(zone)
    found = []
    for offset in range(within.days + 2, -1, -1):
        day = local_now.date() - timedelta(days=offset)
        for slot in SLOTS:
            _start, end = window_bounds(day, slot, windows, zone)
            if local_now - within < end <= local_now:
                found.append((day, slot, end))
    return found
