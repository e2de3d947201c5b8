"""Demo supervision history: subjects arriving and leaving over the years, their two location
checks a day, and their visits to the self-service terminals. Deterministic for a seed."""

from __future__ import annotations

import random
from bisect import bisect
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from watchwall.metrics.counties import COUNTIES
from watchwall.metrics.demo_people import COUNTY_COORDINATES, local_moment, made_up_name, pick, pick_county
from watchwall.metrics.geo.demo_areas import CheckPlaces
from watchwall.metrics.localtime import local_day

CATEGORY_WEIGHTS = (
    ("probation", 0.84),
    ("parole", 0.08),
    ("temporary_out_of_prison", 0.06),
    ("public_surveillance", 0.02),
)
LEVEL_WEIGHTS = (("strict", 0.15), ("ordinary", 0.70), ("lenient", 0.15))
METHOD_WEIGHTS = (("dingtalk", 0.60), ("electronic", 0.32), ("home_visit", 0.08))
TERMINAL_WEIGHTS = (
    ("daily_report", 0.40),
    ("education", 0.14),
    ("public_welfare", 0.12),
    ("information_query", 0.10),
    ("information_collection", 0.07),
    ("registration", 0.06),
    ("travel_request", 0.05),
    ("travel_return", 0.04),
    ("residence_change_request", 0.02),
)
ARRIVALS_PER_DAY = 0.5
SUPERVISION_DAYS = (180, 900)


def subject_rows(rng: random.Random, first: date, today: date) -> list[tuple]:
    rows = []
    day = first - timedelta(days=SUPERVISION_DAYS[1])
    number = 0
    while day <= today:
        for _ in range(_poisson(rng, ARRIVALS_PER_DAY)):
            number += 1
            end = day + timedelta(days=rng.randint(*SUPERVISION_DAYS))
            rows.append(
                (
                    number,
                    f"demo-sub-{number:05d}",
                    made_up_name(rng),
                    pick_county(rng),
                    pick(rng, CATEGORY_WEIGHTS),
                    day,
                    end,
                    pick(rng, LEVEL_WEIGHTS),
                )
            )
        day += timedelta(days=1)
    return [row for row in rows if row[6] >= first]


def _poisson(rng: random.Random, mean: float) -> int:
    count, threshold, product = 0, pow(2.718281828459045, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _cumulative(weighted: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    values, running, cumulative = [], 0.0, []
    for value, weight in weighted:
        values.append(value)
        running += weight
        cumulative.append(running)
    cumulative[-1] = float("inf")  # so that bisect never runs past the end on rounding
    return values, cumulative


def location_check_rows(
    rng: random.Random,
    subjects: list[tuple],
    first: date,
    now: datetime,
    zone: ZoneInfo,
    places: CheckPlaces | None = None,
):
    """Two checks a day per active subject; each county has its own compliance level.

    With ``places`` a check lands inside (``ok``) or outside (``out_of_area``) its subject's area.
    """
    today = local_day(now, zone)
    county_miss = {c.code: rng.uniform(0.008, 0.035) for c in COUNTIES}
    methods, cumulative = _cumulative(METHOD_WEIGHTS)
    midnights = {}  # local midnight of each day, in UTC
    slots = (("morning", 7 * 3600, 11 * 3600 + 1800), ("afternoon", 13 * 3600, 18 * 3600))
    number = 0
    random_fraction = rng.random  # the hot loop below makes ~700k rows; plain random() keeps it fast
    for subject_id, _, _, county, _, start, end, _ in subjects:
        lat0, lon0 = COUNTY_COORDINATES[county]
        miss = county_miss[county]
        day = max(start, first)
        last = min(end, today)
        while day <= last:
            midnight = midnights.get(day)
            if midnight is None:
                midnight = midnights[day] = local_moment(day, 0, zone).astimezone(UTC)
            for slot, earliest, latest in slots:
                moment = midnight + timedelta(seconds=earliest + int(random_fraction() * (latest - earliest)))
                if moment > now:
                    continue
                draw = random_fraction()
                if draw < miss * 0.4:
                    continue  # no check at all: the slot counts as missed
                result = "missed" if draw < miss else "out_of_area" if draw < miss + 0.006 else "ok"
                number += 1
                far = 0.8 if result == "out_of_area" else 0.1
                located = result != "missed"
                if located and places is not None:
                    latitude, longitude = places.place(
                        subject_id, result == "out_of_area", random_fraction(), random_fraction()
                    )
                elif located:
                    latitude = round(lat0 + (random_fraction() - 0.5) * far, 5)
                    longitude = round(lon0 + (random_fraction() - 0.5) * far, 5)
                else:
                    latitude = longitude = None
                yield (
                    f"demo-chk-{number:08d}",
                    subject_id,
                    county,
                    moment,
                    day,
                    slot,
                    methods[bisect(cumulative, random_fraction())],
                    result,
                    latitude,
                    longitude,
                )
            day += timedelta(days=1)


def terminal_transaction_rows(
    rng: random.Random, subjects: list[tuple], first: date, now: datetime, zone: ZoneInfo
):
    kinds = [k for k, _ in TERMINAL_WEIGHTS]
    weights = [w for _, w in TERMINAL_WEIGHTS]
    by_day: dict[date, list[tuple]] = {}
    for row in subjects:
        by_day.setdefault(row[5], []).append(row)
    day, today, active = first, local_day(now, zone), [r for r in subjects if r[5] < first]
    while day <= today:
        active = [r for r in active if r[6] >= day] + by_day.get(day, [])
        for row in rng.sample(active, min(len(active), rng.randint(8, 20))):
            moment = local_moment(day, rng.randint(8 * 3600, 18 * 3600), zone)
            if moment <= now:
                yield (row[0], row[3], rng.choices(kinds, weights=weights)[0], moment.astimezone(UTC), day)
        day += timedelta(days=1)
