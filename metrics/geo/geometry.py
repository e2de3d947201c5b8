"""Plain geometry on WGS-84 longitude/latitude: point in polygon, distance, line simplification.

Polygons are GeoJSON-shaped: a list of rings, each a list of ``[lon, lat]``; the first ring is the
outline, the others holes. Distances are great-circle metres on a sphere of the WGS-84 mean radius,
accurate to well under 1 % at a county's scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

EARTH_RADIUS_M = 6_371_008.8

Point = Sequence[float]  # (lon, lat)
Ring = Sequence[Point]


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def in_ring(point: Point, ring: Ring) -> bool:
    """Ray casting; a point exactly on an edge may fall either way."""
    x, y = point[0], point[1]
    inside = False
    count = len(ring)
    j = count - 1
    for i in range(count):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def in_polygon(point: Point, rings: Sequence[Ring]) -> bool:
    """Inside the outline (first ring) and in none of the holes."""
    if not rings or not in_ring(point, rings[0]):
        return False
    return not any(in_ring(point, hole) for hole in rings[1:])


def in_multipolygon(point: Point, polygons: Sequence[Sequence[Ring]]) -> bool:
    return any(in_polygon(point, rings) for rings in polygons)


def _perpendicular(point: Point, start: Point, end: Point) -> float:
    dx, dy = end[0] - start[0], end[1] - start[1]
    if dx == 0 and dy == 0:
        return math.hypot(point[0] - start[0], point[1] - start[1])
    return abs(dy * point[0] - dx * point[1] + end[0] * start[1] - end[1] * start[0]) / math.hypot(dx, dy)


def simplify(line: Sequence[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker in degrees (iterative: a long ring would exhaust recursion)."""
    if len(line) < 3:
        return list(line)
    keep = [False] * len(line)
    keep[0] = keep[-1] = True
    stack = [(0, len(line) - 1)]
    while stack:
        first, last = stack.pop()
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            d = _perpendicular(line[i], line[first], line[last])
            if d > worst:
                worst, index = d, i
        if index >= 0 and worst > tolerance:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return [p for p, kept in zip(line, keep, strict=True) if kept]


def simplify_ring(ring: Sequence[Point], tolerance: float) -> list[Point] | None:
    """A closed ring simplified, still closed; None when it collapses below a triangle."""
    open_ring = list(ring[:-1]) if len(ring) > 1 and list(ring[0]) == list(ring[-1]) else list(ring)
    if len(open_ring) < 3:
        return None
    # split at the point farthest from the first so that both halves keep their ends
    far = max(range(len(open_ring)), key=lambda i: math.dist(open_ring[0], open_ring[i]))
    half_a = simplify(open_ring[: far + 1], tolerance)
    half_b = simplify([*open_ring[far:], open_ring[0]], tolerance)
    result = half_a + half_b[1:]
    return result if len(result) >= 4 else None
