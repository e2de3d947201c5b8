"""``watchwall import areas FILE``: subjects' assigned areas (a radius around home, or a polygon),
validated whole, then written in one transaction.

Columns (``.csv`` with a header row, or ``.jsonl`` objects; see :mod:`watchwall.metrics.import_rows`):
  subject         external id of the subject (must already be in the database)
  kind            radius | polygon  (半径 | 多边形)
  home_latitude   -90..90; required for ``radius``, optional for ``polygon``
  home_longitude  -180..180; given together with home_latitude
  radius_m        metres above 0, at most 100 km; ``radius`` only
  polygon         one GeoJSON Polygon's rings as JSON text, ``[[[lon, lat], ...], ...]`` (closed,
                  WGS-84); ``polygon`` only. In ``.jsonl`` it may also be the JSON array itself.

A subject has one area: a row replaces the area the subject had. A file with any bad row is refused
whole, every bad row named by line, and nothing is written. Checks already stored keep their result;
the area decides the result of checks imported from now on (``metrics.geo.areas``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, insert, select

from watchwall.metrics.geo.areas import AreaError, area_of
from watchwall.metrics.geo.models import AREA_KINDS, SubjectArea
from watchwall.metrics.import_rows import (
    RawRow,
    RowError,
    RowKind,
    _coordinate,
    _identifier,
    _text,
    column_problem,
    read_rows,
)
from watchwall.metrics.importer import ImportRefused
from watchwall.metrics.models import Subject

AREA_COLUMNS = ("subject", "kind", "home_latitude", "home_longitude", "radius_m", "polygon")
AREA_OPTIONAL = frozenset({"home_latitude", "home_longitude", "radius_m", "polygon"})
KIND_NAMES_ZH = {"radius": "半径", "polygon": "多边形"}
MAX_RADIUS_M = 100_000.0
CHUNK = 500


@dataclass(frozen=True)
class AreaImportReport:
    rows: int
    new: int
    replaced: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.rows} areas: {self.new} new, {self.replaced} replaced, {self.unchanged} unchanged"


def _kind(values: dict) -> str:
    value = _text(values, "kind")
    by_name = {name: code for code, name in KIND_NAMES_ZH.items()}
    if value in AREA_KINDS:
        return value
    if value in by_name:
        return by_name[value]
    raise RowError(f"kind: {value!r} is not one of {', '.join(AREA_KINDS)}")


def _radius(values: dict) -> float | None:
    value = values.get("radius_m")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        radius = float(value)
    except (TypeError, ValueError):
        raise RowError(f"radius_m: {value!r} is not a number") from None
    if not 0 < radius <= MAX_RADIUS_M:
        raise RowError(f"radius_m: {radius:g} is not above 0 and at most {MAX_RADIUS_M:g} m")
    return radius


def _polygon_text(values: dict) -> str | None:
    value = values.get("polygon")
    if isinstance(value, list):  # a .jsonl row may carry the rings themselves
        return json.dumps(value)
    return _text(values, "polygon", optional=True)


def area_row(values: dict) -> dict:
    """One file row as a ``subject_areas`` record (with ``subject`` the external id); RowError says why not."""
    kind = _kind(values)
    latitude = _coordinate(values, "home_latitude", 90)
    longitude = _coordinate(values, "home_longitude", 180)
    if (latitude is None) != (longitude is None):
        raise RowError("home_latitude/home_longitude: give both or neither")
    radius = _radius(values)
    polygon = _polygon_text(values)
    if kind == "radius":
        if latitude is None:
            raise RowError("home_latitude/home_longitude: a radius area needs the home coordinates")
        if radius is None:
            raise RowError("radius_m: a radius area needs its radius")
        if polygon is not None:
            raise RowError("polygon: given for a radius area (leave it empty)")
    else:
        if polygon is None:
            raise RowError("polygon: a polygon area needs its rings")
        if radius is not None:
            raise RowError("radius_m: given for a polygon area (leave it empty)")
    record = {
        "subject": _identifier(values, "subject"),
        "kind": kind,
        "home_latitude": latitude,
        "home_longitude": longitude,
        "radius_m": radius,
        "polygon": polygon,
    }
    try:
        area = area_of(record)  # the same check the intake applies when it uses the area
    except AreaError as exc:
        raise RowError(str(exc)) from None
    if area.kind == "polygon":
        record["polygon"] = json.dumps([[list(point) for point in ring] for ring in area.rings])
    return record


AREA_ROWS = RowKind(AREA_COLUMNS, AREA_OPTIONAL, lambda values, _zone: area_row(values))


def validate_area_rows(rows: list[RawRow]) -> tuple[list[tuple[int, dict]], list[tuple[int, str]]]:
    good: list[tuple[int, dict]] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for row in rows:
        if "__header__" in row.values:
            problem = column_problem(AREA_ROWS, row.values["__header__"])
            if problem:
                return [], [(row.line, problem)]
            continue
        if "__error__" in row.values:
            problems.append((row.line, str(row.values["__error__"])))
            continue
        problem = column_problem(AREA_ROWS, row.values)
        if problem:
            problems.append((row.line, problem))
            continue
        try:
            parsed = area_row(row.values)
        except RowError as exc:
            problems.append((row.line, str(exc)))
            continue
        first = seen.setdefault(parsed["subject"], row.line)
        if first != row.line:
            problems.append((row.line, f"subject: {parsed['subject']!r} already has an area on line {first}"))
            continue
        good.append((row.line, parsed))
    return good, problems


def _subject_ids(connection: Connection, external_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(external_ids), CHUNK):
        chunk = external_ids[start : start + CHUNK]
        found.update(
            connection.execute(
                select(Subject.external_id, Subject.id).where(Subject.external_id.in_(chunk))
            ).all()
        )
    return found


def _existing(connection: Connection, subject_ids: list[int]) -> dict[int, dict]:
    table = SubjectArea.__table__
    found: dict[int, dict] = {}
    for start in range(0, len(subject_ids), CHUNK):
        chunk = subject_ids[start : start + CHUNK]
        for row in connection.execute(select(table).where(table.c.subject_id.in_(chunk))).mappings():
            found[row["subject_id"]] = dict(row)
    return found


def import_area_rows(engine: Engine, rows: list[RawRow], source: Path | str = "rows") -> AreaImportReport:
    """Validate ``rows`` and write them in one transaction; :class:`ImportRefused` names every bad line."""
    good, problems = validate_area_rows(rows)
    table = SubjectArea.__table__
    with engine.begin() as connection:
        subjects = _subject_ids(connection, sorted({row["subject"] for _, row in good}))
        problems += [
            (line, f"subject: {row['subject']!r} is not in the database")
            for line, row in good
            if row["subject"] not in subjects
        ]
        if problems:
            raise ImportRefused(source, problems)
        records = [
            {"subject_id": subjects[row["subject"]], **{k: v for k, v in row.items() if k != "subject"}}
            for _, row in good
        ]
        existing = _existing(connection, [record["subject_id"] for record in records])
        changed = [r for r in records if r["subject_id"] in existing and existing[r["subject_id"]] != r]
        new = [r for r in records if r["subject_id"] not in existing]
        if changed:
            connection.execute(
                delete(table).where(table.c.subject_id.in_([r["subject_id"] for r in changed]))
            )
        if new or changed:
            connection.execute(insert(table), new + changed)
    return AreaImportReport(len(records), len(new), len(changed), len(records) - len(new) - len(changed))


def import_area_file(engine: Engine, path: Path) -> AreaImportReport:
    return import_area_rows(engine, read_rows(path), source=path)
