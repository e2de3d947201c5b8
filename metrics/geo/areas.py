"""Is a location check inside its subject's assigned area? The decision behind ``out_of_area``.

At intake (REST ``/api/v1/checkins`` and ``watchwall import checkins``) a check that carries
coordinates, of a subject who has an assigned area, gets its result from here: outside the area it
is ``out_of_area``, inside it is ``ok``; ``missed`` stays ``missed``. A check without coordinates, or
of a subject without an area, keeps the result its source gave.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from watchwall.metrics.geo.geometry import distance_m, in_polygon
from watchwall.metrics.geo.models import SubjectArea

CHUNK = 500


class AreaError(ValueError):
    """An area that cannot be used; the message says why."""


@dataclass(frozen=True)
class Area:
    kind: str  # "radius" | "polygon"
    home: tuple[float, float] | None  # (lon, lat)
    radius_m: float | None = None
    rings: tuple[tuple[tuple[float, float], ...], ...] = ()

    def contains(self, longitude: float, latitude: float) -> bool:
        if self.kind == "radius":
            return distance_m(self.home, (longitude, latitude)) <= self.radius_m
        return in_polygon((longitude, latitude), self.rings)


def parse_rings(text: str) -> tuple[tuple[tuple[float, float], ...], ...]:
    """The rings of a GeoJSON Polygon's coordinates given as JSON text, checked."""
    try:
        value = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise AreaError(f"polygon is not JSON: {exc}") from None
    if not isinstance(value, list) or not value:
        raise AreaError("polygon: expected a list of rings [[[lon, lat], ...], ...]")
    rings = []
    for number, ring in enumerate(value, start=1):
        if not isinstance(ring, list) or len(ring) < 4:
            raise AreaError(f"polygon ring {number}: needs at least 4 [lon, lat] points (closed)")
        points = []
        for point in ring:
            if (
                not isinstance(point, list | tuple)
                or len(point) != 2
                or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in point)
            ):
                raise AreaError(f"polygon ring {number}: {point!r} is not [lon, lat]")
            lon, lat = float(point[0]), float(point[1])
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise AreaError(f"polygon ring {number}: {point!r} is outside -180..180 / -90..90")
            points.append((lon, lat))
        if points[0] != points[-1]:
            raise AreaError(f"polygon ring {number}: first and last point differ (not closed)")
        rings.append(tuple(points))
    return tuple(rings)


def area_of(row) -> Area:
    """An :class:`Area` from a ``subject_areas`` row (model instance or mapping)."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    home = None
    if get("home_latitude") is not None and get("home_longitude") is not None:
        home = (get("home_longitude"), get("home_latitude"))
    if get("kind") == "radius":
        if home is None or not get("radius_m") or get("radius_m") <= 0:
            raise AreaError("a radius area needs the home coordinates and a radius above 0 m")
        return Area("radius", home, float(get("radius_m")))
    if get("kind") == "polygon":
        return Area("polygon", home, rings=parse_rings(get("polygon")))
    raise AreaError(f"area kind {get('kind')!r} is not one of radius, polygon")


def judge(result: str, latitude: float | None, longitude: float | None, area: Area | None) -> str:
    """The result a check is stored with (see the module's docstring)."""
    if result == "missed" or area is None or latitude is None or longitude is None:
        return result
    return "ok" if area.contains(longitude, latitude) else "out_of_area"


def areas_for(connection: Connection, subject_ids: Iterable[int]) -> dict[int, Area]:
    ids = sorted(set(subject_ids))
    table = SubjectArea.__table__
    found: dict[int, Area] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(table).where(table.c.subject_id.in_(ids[start : start + CHUNK]))
        for row in connection.execute(query).mappings():
            found[row["subject_id"]] = area_of(dict(row))
    return found
