"""Plain geometry, the GCJ-02 conversion and the shipped county outlines."""

from __future__ import annotations

import json
import math

import pytest

from watchwall.config.settings import DEMO_SITE
from watchwall.config.site import load_site
from watchwall.metrics.counties import COUNTY_CODES
from watchwall.metrics.geo.boundaries import OUTLINES_PATH, county_outlines
from watchwall.metrics.geo.chinese_datum import gcj02_to_wgs84, wgs84_to_gcj02
from watchwall.metrics.geo.geometry import distance_m, in_multipolygon, in_polygon, simplify_ring

SQUARE = [[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]]
WITH_HOLE = [*SQUARE, [(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6), (0.4, 0.4)]]


def test_point_in_polygon_with_a_hole():
    assert in_polygon((0.2, 0.2), SQUARE)
    assert not in_polygon((1.2, 0.2), SQUARE)
    assert in_polygon((0.5, 0.5), SQUARE)
    assert not in_polygon((0.5, 0.5), WITH_HOLE)
    assert in_polygon((0.2, 0.8), WITH_HOLE)
    assert not in_polygon((0.5, 0.5), [])


def test_distance_matches_a_degree_of_latitude():
    assert distance_m((105.7, 34.0), (105.7, 35.0)) == pytest.approx(111_195, rel=1e-3)
    assert distance_m((105.7, 34.58), (105.7, 34.58)) == 0


def test_gcj02_round_trip_and_the_published_example():
    # Beijing railway station, the example published with the algorithm: WGS-84 -> GCJ-02
    lon, lat = wgs84_to_gcj02(116.42079, 39.90105)
    assert (round(lon, 4), round(lat, 4)) == (116.4270, 39.9024)
    back = gcj02_to_wgs84(lon, lat)
    assert distance_m(back, (116.42079, 39.90105)) < 0.5
    # at Tianshui the offset is a few hundred metres: enough to matter for an area check
    assert 200 < distance_m(wgs84_to_gcj02(105.72, 34.58), (105.72, 34.58)) < 800


def test_simplify_ring_keeps_a_closed_shape_and_drops_small_wiggles():
    circle = [(math.cos(a / 100 * 2 * math.pi), math.sin(a / 100 * 2 * math.pi)) for a in range(100)]
    ring = [*circle, circle[0]]
    simplified = simplify_ring(ring, 0.05)
    assert simplified[0] == simplified[-1]
    assert 8 <= len(simplified) < 40
    assert simplify_ring([(0, 0), (1, 0), (0, 0)], 0.1) is None


def test_shipped_outlines_hold_the_seven_counties_and_each_centre_lies_in_its_own():
    collection = json.loads(OUTLINES_PATH.read_text(encoding="utf-8"))
    assert [f["id"] for f in collection["features"]] == list(COUNTY_CODES)
    outlines = county_outlines()
    site = load_site(DEMO_SITE)
    for centre in site.counties:
        inside = [
            code
            for code, polygons in outlines.items()
            if in_multipolygon((centre.coordinates.lon, centre.coordinates.lat), polygons)
        ]
        assert inside == [centre.code]
    # the city centre sits in 秦州区
    city = next(c for c in site.centres if c.level == "city")
    assert in_multipolygon((city.coordinates.lon, city.coordinates.lat), outlines["qinzhou"])
