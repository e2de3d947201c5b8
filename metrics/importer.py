"""``watchwall import checkins|cases FILE``: validate the whole file, then write it in one transaction.

A file with any bad row is refused whole: every bad row is named by line number and reason,
and nothing is written. Rows are keyed by ``external_id`` (upsert):
  - an id not yet in the database is inserted;
  - an id already there with the same values is left alone (re-importing a file changes nothing);
  - an id already there with different values is updated to the file's values (the newer export wins).
A check with coordinates outside its subject's assigned area is stored as ``out_of_area``
(:mod:`watchwall.metrics.geo.areas`). After check-ins are written, the compliance roll-ups of
every local day they touch are rebuilt.
Column formats: see :mod:`watchwall.metrics.import_rows`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, bindparam, select, update
from tqdm import tqdm

from watchwall.config.errors import UserError
from watchwall.metrics.bulk import bulk_insert
from watchwall.metrics.geo.areas import areas_for, judge
from watchwall.metrics.import_rows import ROW_KINDS, RawRow, read_rows, validate_rows
from watchwall.metrics.localtime import SHANGHAI, local_day, month_key, slot_of
from watchwall.metrics.models import Case, LocationCheck, Subject
from watchwall.metrics.rollup import rebuild_rollups

CHUNK = 500


@dataclass(frozen=True)
class ImportReport:
    rows: int
    inserted: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.rows} rows: {self.inserted} new, {self.updated} updated, {self.unchanged} unchanged"


class CheckinLinks(Protocol):
    """What else a check-in row carries beyond the case database (its camera), checked and written
    in the import's own transaction: a refused row refuses the whole import."""

    def refused(self, connection: Connection, rows: list[tuple[int, dict, dict]]) -> list[tuple[int, str]]:
        """Problems as (line, reason) of the (line, parsed row, record) triples."""

    def write(self, connection: Connection, rows: list[tuple[int, dict, dict]]) -> None:
        """After the checks are written (their ids exist)."""


class ImportRefused(UserError):
    def __init__(self, path: Path | str, problems: list[tuple[int, str]]):
        self.problems = sorted(problems)
        listed = "\n".join(f"  line {line}: {reason}" for line, reason in self.problems)
        super().__init__(f"{path}: refused, nothing was written; {len(problems)} bad row(s):\n{listed}")


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _subject_lookup(connection: Connection, external_ids: set[str]) -> dict[str, tuple[int, str]]:
    found = {}
    for chunk in _chunks(sorted(external_ids)):
        query = select(Subject.external_id, Subject.id, Subject.county).where(Subject.external_id.in_(chunk))
        found.update({external_id: (sid, county) for external_id, sid, county in connection.execute(query)})
    return found


def _checkin_records(connection: Connection, good: list[tuple[int, dict]], zone: ZoneInfo):
    subjects = _subject_lookup(connection, {row["subject"] for _, row in good})
    areas = areas_for(connection, (subject_id for subject_id, _ in subjects.values()))
    records, problems = [], []
    for line, row in good:
        if row["subject"] not in subjects:
            problems.append((line, f"subject: {row['subject']!r} is not in the database"))
            continue
        subject_id, county = subjects[row["subject"]]
        moment = row["checked_at"]
        records.append(
            {
                "external_id": row["external_id"],
                "subject_id": subject_id,
                "county": county,
                "checked_at": moment,
                "local_day": local_day(moment, zone),
                "slot": slot_of(moment, zone),
                "method": row["method"],
                # out_of_area is decided here from the subject's area (metrics/geo/areas.py)
                "result": judge(row["result"], row["latitude"], row["longitude"], areas.get(subject_id)),
                "latitude": row["latitude"],
                "longitude": row["longitude"],
            }
        )
    return records, problems


def _case_records(good: list[tuple[int, dict]], zone: ZoneInfo) -> list[dict]:
    return [{**row, "received_month": month_key(local_day(row["received_at"], zone))} for _, row in good]


def _existing(connection: Connection, table, columns: list[str], external_ids: list[str]) -> dict[str, dict]:
    found = {}
    for chunk in _chunks(external_ids):
        query = select(*(table.c[name] for name in columns)).where(table.c.external_id.in_(chunk))
        for row in connection.execute(query).mappings():
            found[row["external_id"]] = dict(row)
    return found


def _same(old: dict, new: dict) -> bool:
    return all(old[key] == value for key, value in new.items())


def _write(connection: Connection, table, records: list[dict], progress) -> tuple[int, int, int, list[dict]]:
    """Upsert ``records`` by external_id; return (inserted, updated, unchanged, replaced old rows)."""
    if not records:
        return 0, 0, 0, []
    columns = list(records[0])
    existing = _existing(connection, table, columns, [r["external_id"] for r in records])
    new = [r for r in records if r["external_id"] not in existing]
    changed = [
        r for r in records if r["external_id"] in existing and not _same(existing[r["external_id"]], r)
    ]
    bulk_insert(connection, table, columns, (tuple(r[c] for c in columns) for r in new))
    progress.update(len(new))
    if changed:
        statement = (
            update(table)
            .where(table.c.external_id == bindparam("_key"))
            .values({c: bindparam(c) for c in columns if c != "external_id"})
        )
        connection.execute(statement, [{**r, "_key": r["external_id"]} for r in changed])
    progress.update(len(records) - len(new))
    replaced = [existing[r["external_id"]] for r in changed]
    return len(new), len(changed), len(records) - len(new) - len(changed), replaced


def import_file(
    engine: Engine,
    what: str,
    path: Path,
    zone: ZoneInfo = SHANGHAI,
    show_progress: bool = False,
    checkin_links: CheckinLinks | None = None,
) -> ImportReport:
    """Validate ``path`` as ``what`` (``checkins`` or ``cases``) and upsert it in one transaction.

    ``checkin_links``: what checks a row's ``camera_id`` (the same as the REST intake's); without it
    a row naming a camera is refused.
    """
    return import_rows(
        engine,
        what,
        read_rows(path),
        zone,
        source=path,
        show_progress=show_progress,
        checkin_links=checkin_links,
    )


def import_rows(
    engine: Engine,
    what: str,
    rows: list[RawRow],
    zone: ZoneInfo = SHANGHAI,
    *,
    source: Path | str = "rows",
    show_progress: bool = False,
    checkin_links: CheckinLinks | None = None,
) -> ImportReport:
    """Validate already-read ``rows`` as ``what`` and upsert them in one transaction.

    Each row's ``line`` is what a problem is reported against (a file's line, a request's row index);
    :class:`ImportRefused` names ``source``.
    """
    kind = ROW_KINDS[what]
    with tqdm(total=2 * len(rows), unit="row", disable=not show_progress, desc=f"import {what}") as progress:
        good, problems = validate_rows(rows, kind, zone, progress)
        with engine.begin() as connection:
            linked: list[tuple[int, dict, dict]] = []
            if what == "checkins":
                records, missing_subjects = _checkin_records(connection, good, zone)
                problems = problems + missing_subjects
                if not problems:
                    linked = [(line, row, record) for (line, row), record in zip(good, records, strict=True)]
                    problems = _link_problems(connection, linked, checkin_links)
            else:
                records = _case_records(good, zone)
            if problems:
                raise ImportRefused(source, problems)
            table = (LocationCheck if what == "checkins" else Case).__table__
            inserted, updated, unchanged, replaced = _write(connection, table, records, progress)
            if what == "checkins" and (inserted or updated):
                touched = [r["local_day"] for r in records] + [r["local_day"] for r in replaced]
                rebuild_rollups(connection, min(touched), max(touched))
            if checkin_links is not None and linked:
                checkin_links.write(connection, linked)
    return ImportReport(len(records), inserted, updated, unchanged)


def _link_problems(
    connection: Connection, linked, checkin_links: CheckinLinks | None
) -> list[tuple[int, str]]:
    if checkin_links is not None:
        return checkin_links.refused(connection, linked)
    return [
        (line, "camera_id: this import checks no cameras (use `watchwall import` or POST /api/v1/checkins)")
        for line, row, _record in linked
        if row.get("camera_id")
    ]
