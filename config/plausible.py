"""Dates WatchWall believes: nothing before 2000, nothing more than a day ahead of the clock.

A check-in at year 1 or a seek to year 9999 is a typo or an attack; both are refused with a
message naming the bound instead of overflowing somewhere deeper (a 500).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


def implausible(moment: datetime, now: datetime | None = None) -> str | None:
    """Why an aware ``moment`` is not believable, or None."""
    now = datetime.now(UTC) if now is None else now
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return "is outside the years a date may have"
    if utc < EARLIEST:
        return "is before 2000-01-01"
    if utc > now + FUTURE_SLACK:
        return "is more than a day in the future"
    return None
