"""Demo subjects' homes and assigned areas, and where their location checks land (no real place).

Each subject lives within about 5 km of the county seat. Four in five are assigned a radius of
1.5-5 km around home, one in five an irregular hexagon of about that size. An ``ok`` check lands
inside the area, an ``out_of_area`` check 1.4-4 times the area's size away from home. Deterministic
for a seed.
"""

from __future__ import annotations

import json
import math
import random

from watchwall.metrics.demo_people import COUNTY_COORDINATES

METRES_PER_DEGREE = 111_320.0
POLYGON_SHARE = 0.2


def _offset(lat: float, lon: float, metres: float, angle: float) -> tuple[float, float]:
    d_lat = metres * math.cos(angle) / METRES_PER_DEGREE
    d_lon = metres * math.sin(angle) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return lat + d_lat, lon + d_lon


def demo_area_rows(rng: random.Random, subjects: list[tuple]) -> list[tuple]:
    """(subject_id, kind, home_latitude, home_longitude, radius_m, polygon) for every subject."""
    rows = []
    for subject_id, _, _, county, *_ in subjects:
        lat0, lon0 = COUNTY_COORDINATES[county]
        home_lat, home_lon = _offset(lat0, lon0, rng.uniform(0, 5000), rng.uniform(0, 2 * math.pi))
        home_lat, home_lon = round(home_lat, 5), round(home_lon, 5)
        if rng.random() < POLYGON_SHARE:
            corners = []
            for corner in range(6):
                lat, lon = _offset(home_lat, home_lon, rng.uniform(1500, 4000), corner * math.pi / 3)
                corners.append([round(lon, 5), round(lat, 5)])
            polygon = json.dumps([[*corners, corners[0]]])
            rows.append((subject_id, "polygon", home_lat, home_lon, None, polygon))
        else:
            rows.append((subject_id, "radius", home_lat, home_lon, float(rng.randint(15, 50) * 100), None))
    return rows


class CheckPlaces:
    """Where a demo subject's check lands, from two uniform draws (so the caller's draws stay the same)."""

    def __init__(self, area_rows: list[tuple]) -> None:
        self._areas = {}
        for subject_id, kind, lat, lon, radius_m, polygon in area_rows:
            if kind == "radius":
                inner = outer = radius_m
            else:
                home = (lon, lat)
                sizes = [math.dist(home, corner) * METRES_PER_DEGREE for corner in json.loads(polygon)[0]]
                inner, outer = min(sizes) * 0.8, max(sizes) * 1.4  # the hexagon's inscribed circle, roughly
            self._areas[subject_id] = (lat, lon, inner, outer)

    def place(self, subject_id: int, out_of_area: bool, draw_a: float, draw_b: float) -> tuple[float, float]:
        lat, lon, inner, outer = self._areas[subject_id]
        distance = outer * (1.4 + 2.6 * draw_b) if out_of_area else inner * 0.8 * draw_b
        place_lat, place_lon = _offset(lat, lon, distance, draw_a * 2 * math.pi)
        return round(place_lat, 5), round(place_lon, 5)
