"""How check-in compliance is counted: pure functions, no database.

Every subject under supervision owes two location checks a local day, a morning slot
(before 12:00) and an afternoon slot, each owed once its window (settings ``checkin_windows``,
default 06:00-12:00 and 12:00-20:00) has closed. A slot is *satisfied* by at least one check with
result ``ok`` in it, whatever the method; otherwise it is *out of area* when a check in
it reported the subject outside their area, else *missed* (a recorded miss or no check
at all). Compliance is satisfied slots / required slots.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from watchwall.config.checkin_windows import CheckinWindows
from watchwall.metrics.checkin_windows import DEFAULT_WINDOWS, closed_slots
from watchwall.metrics.localtime import SHANGHAI

SLOTS_PER_DAY = 2


def slot_outcome(results: Iterable[str]) -> str:
    """``satisfied``, ``out_of_area`` or ``missed`` for the results of one slot's checks."""
    seen = set(results)
    if "ok" in seen:
        return "satisfied"
    if "out_of_area" in seen:
        return "out_of_area"
    return "missed"


def compliance_rate(satisfied: int, required: int) -> float | None:
    """Share of required slots satisfied, 0..1; ``None`` when nothing was required."""
    if required <= 0:
        return None
    return min(satisfied, required) / required


def slots_due(now: datetime, zone: ZoneInfo = SHANGHAI, windows: CheckinWindows = DEFAULT_WINDOWS) -> int:
    """Slots of today already owed at ``now``: those whose window has closed (0, 1 or 2)."""
    return len(closed_slots(now, windows, zone))


@dataclass(frozen=True)
class DayCompliance:
    required: int
    satisfied: int
    out_of_area: int

    @property
    def missed(self) -> int:
        return max(self.required - self.satisfied - self.out_of_area, 0)

    @property
    def rate(self) -> float | None:
        return compliance_rate(self.satisfied, self.required)


def active_subjects_by_day(
    spans: Iterable[tuple[str, date, date | None]], first: date, last: date
) -> dict[tuple[str, date], int]:
    """Active subjects per (county, day) in [first, last] from (county, start, end) spans.

    Linear in subjects + days: each span adds +1 on its first day in range and -1 after its last.
    """
    steps: dict[str, dict[date, int]] = {}
    for county, start, end in spans:
        begin = max(start, first)
        finish = min(end, last) if end is not None else last
        if begin > finish:
            continue
        county_steps = steps.setdefault(county, {})
        county_steps[begin] = county_steps.get(begin, 0) + 1
        after = finish + timedelta(days=1)
        county_steps[after] = county_steps.get(after, 0) - 1
    active: dict[tuple[str, date], int] = {}
    for county, county_steps in steps.items():
        running = 0
        day = first
        while day <= last:
            running += county_steps.get(day, 0)
            if running:
                active[(county, day)] = running
            day += timedelta(days=1)
    return active


def overall_rate(days: Sequence[DayCompliance]) -> float | None:
    return compliance_rate(sum(d.satisfied for d in days), sum(d.required for d in days))
