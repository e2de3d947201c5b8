"""Reading and validating import files, row by row, before anything is written.

Files are ``.csv`` (UTF-8, optional BOM, header row) or ``.jsonl`` / ``.ndjson`` (one JSON
object per line; blank lines are skipped). Line numbers are the file's physical lines.
Unknown or missing columns refuse the file. Times are ISO 8601; a time without an offset
is local time in the site's zone (Asia/Shanghai). Enumerations accept the English code or
the Chinese name.

``checkins`` columns (one location check each):
  external_id   unique id of the check on the source system (<= 64 chars)
  subject       external id of the subject (must already be in the database)
  checked_at    when the check happened, e.g. 2024-05-01T08:12:00+08:00
  method        electronic | dingtalk | home_visit | video  (信息化核查 | 钉钉打卡 | 入户走访 | 视频核查)
  result        ok | missed | out_of_area
  latitude      optional, -90..90; given together with longitude
  longitude     optional, -180..180
  camera_id     optional: the room camera where the check happened (required for method video); its
                recorded span is checked for a face (REST API and `watchwall import`: dashboard/checkin_video_intake.py)

``cases`` columns (one case from the cross-department platform each):
  external_id   unique id of the case on the platform (<= 64 chars)
  case_type     correction_reception | committal_to_prison | rewards_punishments | pretrial_evaluation
                (矫正衔接 | 收监执行 | 刑事奖惩 | 审前社会调查评估)
  source_agency police | procuratorate | court | prison  (公安 | 检察院 | 法院 | 监狱)
  county        county code: qinzhou, maiji, qingshui, qinan, gangu, wushan, zhangjiachuan
  received_at   when the centre received it
  closed_at     optional; not before received_at

Examples: ``tests/metrics/data/checkins.csv``, ``tests/metrics/data/cases.jsonl``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from watchwall.config.errors import UserError
from watchwall.config.plain_text import unsafe_reason
from watchwall.config.plausible import implausible
from watchwall.metrics.counties import COUNTY_CODES
from watchwall.metrics.localtime import as_utc
from watchwall.metrics.models import (
    CASE_TYPE_NAMES_ZH,
    CASE_TYPES,
    CHECK_METHOD_NAMES_ZH,
    CHECK_METHODS,
    CHECK_RESULTS,
    SOURCE_AGENCIES,
)

AGENCY_NAMES_ZH = {"police": "公安", "procuratorate": "检察院", "court": "法院", "prison": "监狱"}
CHECKIN_COLUMNS = (
    "external_id",
    "subject",
    "checked_at",
    "method",
    "result",
    "latitude",
    "longitude",
    "camera_id",
)
CHECKIN_OPTIONAL = {"latitude", "longitude", "camera_id"}
CASE_COLUMNS = ("external_id", "case_type", "source_agency", "county", "received_at", "closed_at")
CASE_OPTIONAL = {"closed_at"}
MAX_ID_LENGTH = 64


class RowError(ValueError):
    """One bad value; the message names the column."""


@dataclass(frozen=True)
class RawRow:
    line: int
    values: dict[str, object]


def read_rows(path: Path) -> list[RawRow]:
    """Every data row of a .csv or .jsonl/.ndjson file with its line number."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise UserError(f"{path}: unknown file type {suffix or '(none)'!r}; use .csv, .jsonl or .ndjson")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read_csv(path, handle) if suffix == ".csv" else _read_jsonl(path, handle)
    except FileNotFoundError as exc:
        raise UserError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _read_csv(path: Path, handle) -> list[RawRow]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise UserError(f"{path}: empty file (expected a header row)")
    header = [name.strip() for name in header]
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            values: dict[str, object] = {"__error__": f"{len(cells)} fields, the header has {len(header)}"}
        else:
            values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        rows.append(RawRow(reader.line_num, values))
    return [RawRow(1, {"__header__": header}), *rows]


def _read_jsonl(path: Path, handle) -> list[RawRow]:
    rows = []
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(RawRow(number, {"__error__": f"not JSON ({exc.msg})"}))
            continue
        if not isinstance(value, dict):
            rows.append(RawRow(number, {"__error__": "not a JSON object"}))
            continue
        rows.append(RawRow(number, value))
    return rows


def _text(values: dict, column: str, optional: bool = False) -> str | None:
    value = values.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise RowError(f"{column}: missing")
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise RowError(f"{column}: expected text, got {type(value).__name__}")
    text = str(value).strip()
    problem = unsafe_reason(text)  # NUL, bidi overrides, lone surrogates: never stored, never shown
    if problem:
        raise RowError(f"{column}: {problem}")
    return text


def _identifier(values: dict, column: str) -> str:
    value = _text(values, column)
    if len(value) > MAX_ID_LENGTH:
        raise RowError(f"{column}: longer than {MAX_ID_LENGTH} characters")
    return value


def _choice(values: dict, column: str, codes: tuple[str, ...], chinese: dict[str, str]) -> str:
    value = _text(values, column)
    by_name = {name: code for code, name in chinese.items()}
    if value in codes:
        return value
    if value in by_name:
        return by_name[value]
    raise RowError(f"{column}: {value!r} is not one of {', '.join(codes)}")


def _moment(values: dict, column: str, zone: ZoneInfo, optional: bool = False) -> datetime | None:
    value = _text(values, column, optional)
    if value is None:
        return None
    try:
        moment = as_utc(datetime.fromisoformat(value), zone)
    except ValueError:
        raise RowError(
            f"{column}: {value!r} is not an ISO 8601 time (e.g. 2024-05-01T08:12:00+08:00)"
        ) from None
    except OverflowError:  # year 1 at +08:00 is before the first UTC instant Python has
        raise RowError(f"{column}: {value!r} is before 2000-01-01") from None
    problem = implausible(moment)
    if problem:
        raise RowError(f"{column}: {value!r} {problem}")
    return moment


def _coordinate(values: dict, column: str, limit: float) -> float | None:
    value = values.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RowError(f"{column}: {value!r} is not a number") from None
    if not -limit <= number <= limit:
        raise RowError(f"{column}: {number} is outside -{limit:g}..{limit:g}")
    return number


def checkin_row(values: dict, zone: ZoneInfo) -> dict:
    latitude = _coordinate(values, "latitude", 90)
    longitude = _coordinate(values, "longitude", 180)
    if (latitude is None) != (longitude is None):
        raise RowError("latitude/longitude: give both or neither")
    method = _choice(values, "method", CHECK_METHODS, CHECK_METHOD_NAMES_ZH)
    camera_id = _text(values, "camera_id", optional=True)
    if camera_id is not None and len(camera_id) > MAX_ID_LENGTH:
        raise RowError(f"camera_id: longer than {MAX_ID_LENGTH} characters")
    if method == "video" and camera_id is None:
        raise RowError("camera_id: required for method video (the camera whose recording verifies the check)")
    return {
        "external_id": _identifier(values, "external_id"),
        "subject": _identifier(values, "subject"),
        "checked_at": _moment(values, "checked_at", zone),
        "method": method,
        "result": _choice(values, "result", CHECK_RESULTS, {}),
        "latitude": latitude,
        "longitude": longitude,
        "camera_id": camera_id,
    }


def case_row(values: dict, zone: ZoneInfo) -> dict:
    county = _text(values, "county")
    if county not in COUNTY_CODES:
        raise RowError(f"county: {county!r} is not one of {', '.join(COUNTY_CODES)}")
    received_at = _moment(values, "received_at", zone)
    closed_at = _moment(values, "closed_at", zone, optional=True)
    if closed_at is not None and closed_at < received_at:
        raise RowError("closed_at: before received_at")
    return {
        "external_id": _identifier(values, "external_id"),
        "case_type": _choice(values, "case_type", CASE_TYPES, CASE_TYPE_NAMES_ZH),
        "source_agency": _choice(values, "source_agency", SOURCE_AGENCIES, AGENCY_NAMES_ZH),
        "county": county,
        "received_at": received_at,
        "closed_at": closed_at,
    }


@dataclass(frozen=True)
class RowKind:
    columns: tuple[str, ...]
    optional: frozenset[str]
    parse: Callable[[dict, ZoneInfo], dict]


ROW_KINDS = {
    "checkins": RowKind(CHECKIN_COLUMNS, frozenset(CHECKIN_OPTIONAL), checkin_row),
    "cases": RowKind(CASE_COLUMNS, frozenset(CASE_OPTIONAL), case_row),
}


def column_problem(kind: RowKind, names) -> str | None:
    """Why a set of column names does not fit ``kind``, or None."""
    names = set(names)
    missing = [c for c in kind.columns if c not in names and c not in kind.optional]
    unknown = sorted(names - set(kind.columns))
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)} (expected {', '.join(kind.columns)})")
    return "; ".join(problems) or None


def validate_rows(
    rows: list[RawRow], kind: RowKind, zone: ZoneInfo, progress=None
) -> tuple[list[tuple[int, dict]], list[tuple[int, str]]]:
    """(good rows as (line, parsed), problems as (line, reason)): every bad row is named."""
    good: list[tuple[int, dict]] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for row in rows:
        if progress is not None:
            progress.update(1)
        if "__header__" in row.values:
            problem = column_problem(kind, row.values["__header__"])
            if problem:
                return [], [(row.line, problem)]
            continue
        if "__error__" in row.values:
            problems.append((row.line, str(row.values["__error__"])))
            continue
        problem = column_problem(kind, row.values)
        if problem:
            problems.append((row.line, problem))
            continue
        try:
            parsed = kind.parse(row.values, zone)
        except RowError as exc:
            problems.append((row.line, str(exc)))
            continue
        first_line = seen.setdefault(parsed["external_id"], row.line)
        if first_line != row.line:
            problems.append(
                (row.line, f"external_id: {parsed['external_id']!r} already on line {first_line}")
            )
            continue
        good.append((row.line, parsed))
    return good, problems
