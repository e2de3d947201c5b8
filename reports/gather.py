"""Every figure of a supervision report, read in one place, as plain JSON-able values.

Case figures come from the same ``watchwall.metrics`` queries the wall calls (never copied
here): the headline block is :func:`headline_figures` at the report's instant, so it equals
``watchwall metrics --json --at`` that instant. Video figures come from the recording index
(segments and gaps with their reasons), views and exports from the audit log. Incidents and
roll-calls are read from their tables when the database has them, by reflection, so a report
says "no incident data" rather than failing on a database without them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, MetaData, Table, case, func, inspect, or_, select
from sqlalchemy.orm import Session

from watchwall.audit.log import AuditEntry
from watchwall.config.site import Site
from watchwall.config.timestamps import utc_iso
from watchwall.incidents.models import Incident
from watchwall.metrics import cases, compliance, resources
from watchwall.metrics.headline import headline_figures
from watchwall.metrics.localtime import days_between, month_key
from watchwall.metrics.models import BASE_KINDS, CASE_TYPES
from watchwall.reports.period import CITY, ReportRequest
from watchwall.reports.recording_daily import Span, recorded_by_camera
from watchwall.video.record.models import (
    GAP_CAMERA_OFFLINE,
    GAP_STALLED,
    RecordingGap,
)

# Gap reasons that mean the camera itself was not delivering video (its downtime); the others
# are the recorder's or the disk's, and count against recording coverage only.
CAMERA_DOWN_REASONS = (GAP_CAMERA_OFFLINE, GAP_STALLED)
# Longest segment the recorder writes is minutes; a day of slack keeps the range query on the index.
SEGMENT_SLACK_S = 86400.0
VIEW_ACTIONS = ("live_view", "playback", "snapshot", "export", "report_download")
INCIDENT_TABLE = "incidents"
ROLLCALL_TABLES = ("rollcall_results", "rollcalls")
ROLLCALL_TIME_COLUMNS = ("called_at", "answered_at", "started_at", "at", "created_at", "occurred_at")
ROLLCALL_RESULT_COLUMNS = ("result", "outcome", "state", "status")


@dataclass(frozen=True)
class Window:
    """The report's span in UTC epoch seconds: [start, end), observed up to ``as_of``."""

    start: float
    end: float
    as_of: float

    @property
    def observed_end(self) -> float:
        return min(self.end, self.as_of)

    @property
    def observed_s(self) -> float:
        return max(self.observed_end - self.start, 0.0)


def gather(engine: Engine, site: Site, request: ReportRequest, zone, now: datetime) -> dict:
    """All figures of the report ``request`` as of ``now`` (or the period's end, if earlier)."""
    period = request.period
    start, end = period.bounds_utc(zone)
    as_of = period.as_of(zone, now)
    # video and audit figures run to the period's end (or now), the case figures to ``as_of``
    window = Window(start.timestamp(), end.timestamp(), min(now.timestamp(), end.timestamp()))
    county = None if request.scope == CITY else request.scope
    places = [p for p in site.cameras() if county is None or p.centre.code == county]
    with Session(engine) as session:
        data = {
            "report": {
                "id": request.report_id,
                "scope": request.scope,
                "kind": period.kind,
                "period": period.key,
                "first": period.first.isoformat(),
                "last": period.last.isoformat(),
                "language": request.language,
                "as_of": as_of.astimezone(zone).isoformat(timespec="seconds"),
                "as_of_utc": as_of.isoformat(timespec="seconds"),
            },
            "headline": headline_figures(session, centres=len(site.centres), now=as_of, zone=zone),
            "compliance": _compliance(session, period, county),
            "cases": _cases(session, period, county),
            "bases": _bases(session, county),
            "cameras": _cameras(session, places, window, zone),
            "inspection": _inspection(session, window, places, county),
        }
    data["coverage"] = _coverage(data["cameras"])
    data["incidents"] = incident_figures(engine, window, county)
    data["rollcalls"] = rollcall_figures(engine, window, county)
    data["has_data"] = _has_data(data)
    return data


def _rate(required: int, satisfied: int) -> float | None:
    return compliance.compliance_rate(satisfied, required)


def _day_figures(figures) -> dict:
    return {
        "required": figures.required,
        "satisfied": figures.satisfied,
        "out_of_area": figures.out_of_area,
        "missed": figures.missed,
        "rate": figures.rate,
    }


def _compliance(session: Session, period, county: str | None) -> dict:
    by_day = compliance.compliance_by_day(session, period.first, period.last, county)
    days = [by_day.get(day) for day in days_between(period.first, period.last)]
    present = [figures for figures in days if figures is not None]
    total = {
        "required": sum(f.required for f in present),
        "satisfied": sum(f.satisfied for f in present),
        "out_of_area": sum(f.out_of_area for f in present),
        "missed": sum(f.missed for f in present),
    }
    total["rate"] = _rate(total["required"], total["satisfied"])
    result = {
        "total": total,
        "by_day": {day.isoformat(): _day_figures(by_day[day]) for day in sorted(by_day)},
        "by_method": compliance.checks_by_method(session, period.first, period.last, county),
    }
    if county is None:
        result["by_county"] = {
            code: _day_figures(figures)
            for code, figures in compliance.compliance_by_county(session, period.first, period.last).items()
        }
    return result


def _cases(session: Session, period, county: str | None) -> dict:
    month = month_key(period.first)
    by_type = cases.cases_by_month_and_type(session, (month, month), county)
    counts = {case_type: by_type.get(case_type, {}).get(month, 0) for case_type in CASE_TYPES}
    return {"month": month, "by_type": counts, "total": sum(counts.values())}


def _bases(session: Session, county: str | None) -> dict[str, int]:
    if county is None:
        return resources.bases_by_kind(session)
    mine = resources.bases_by_county(session).get(county, {})
    return {kind: mine.get(kind, 0) for kind in BASE_KINDS}


def _clipped_seconds(model, window: Window, end_column):
    """SUM of each row's overlap with the window, in SQL (CASE, so SQLite and PostgreSQL alike)."""
    row_end = func.coalesce(end_column, window.as_of)
    clipped_end = case((row_end > window.observed_end, window.observed_end), else_=row_end)
    clipped_start = case((model.start_utc < window.start, window.start), else_=model.start_utc)
    return func.sum(clipped_end - clipped_start)


def _cameras(session: Session, places, window: Window, zone) -> list[dict]:
    """Per camera: recorded seconds, gap seconds by reason, uptime; None where nothing is known."""
    ids = [place.camera.id for place in places]
    recorded: dict[str, float] = {}
    gaps: dict[str, dict[str, float]] = {}
    if ids and window.observed_s > 0:
        # per closed day from the kept roll-ups, the open day live: equal to one SUM over the segments
        by_camera = recorded_by_camera(session, ids, Span(window.start, window.end, window.as_of), zone)
        recorded = {camera: seconds for camera, (seconds, _) in by_camera.items()}
        gap_rows = (
            select(
                RecordingGap.camera_id,
                RecordingGap.reason,
                _clipped_seconds(RecordingGap, window, RecordingGap.end_utc),
            )
            .where(
                RecordingGap.camera_id.in_(ids),
                RecordingGap.start_utc < window.observed_end,
                RecordingGap.end_utc > window.start,
            )
            .group_by(RecordingGap.camera_id, RecordingGap.reason)
        )
        for camera, reason, seconds in session.execute(gap_rows):
            gaps.setdefault(camera, {})[reason] = float(seconds or 0.0)
    rows = []
    for place in places:
        camera_id = place.camera.id
        known = camera_id in recorded or camera_id in gaps
        down = sum(gaps.get(camera_id, {}).get(reason, 0.0) for reason in CAMERA_DOWN_REASONS)
        expected = window.observed_s if place.camera.enabled else 0.0
        rows.append(
            {
                "camera": camera_id,
                "camera_name": place.camera.name.model_dump(),
                "centre": place.centre.code,
                "centre_name": place.centre.label.model_dump(),
                "room": place.room.code,
                "room_name": place.room.name.model_dump(),
                "enabled": place.camera.enabled,
                "recorded_s": recorded.get(camera_id, 0.0),
                "expected_s": expected,
                "gaps_s": gaps.get(camera_id, {}),
                "uptime": (1.0 - min(down, expected) / expected) if known and expected > 0 else None,
            }
        )
    return rows


def _coverage(cameras: list[dict]) -> dict:
    recorded = sum(row["recorded_s"] for row in cameras)
    expected = sum(row["expected_s"] for row in cameras)
    by_reason: dict[str, float] = {}
    for row in cameras:
        for reason, seconds in row["gaps_s"].items():
            by_reason[reason] = by_reason.get(reason, 0.0) + seconds
    by_room: dict[tuple[str, str], list[dict]] = {}
    for row in cameras:
        by_room.setdefault((row["centre"], row["room"]), []).append(row)
    rooms = []
    for (centre, room), members in by_room.items():
        known = [row["uptime"] for row in members if row["uptime"] is not None]
        room_expected = sum(row["expected_s"] for row in members)
        rooms.append(
            {
                "centre": centre,
                "centre_name": members[0]["centre_name"],
                "room": room,
                "room_name": members[0]["room_name"],
                "cameras": len(members),
                "uptime": statistics.fmean(known) if known else None,
                "recorded_h": sum(row["recorded_s"] for row in members) / 3600,
                "expected_h": room_expected / 3600,
                "coverage": (sum(row["recorded_s"] for row in members) / room_expected)
                if room_expected
                else None,
            }
        )
    return {
        "recorded_h": recorded / 3600,
        "expected_h": expected / 3600,
        "rate": recorded / expected if expected else None,
        "gaps_h_by_reason": {reason: seconds / 3600 for reason, seconds in sorted(by_reason.items())},
        "rooms": rooms,
    }


def _inspection(session: Session, window: Window, places, county: str | None) -> dict:
    """Views and exports from the audit log: per action and per person; a county's report counts
    the actions on its cameras and on its own reports."""
    query = (
        select(AuditEntry.actor, AuditEntry.action, AuditEntry.target, func.count())
        .where(
            AuditEntry.at >= utc_iso(window.start),
            AuditEntry.at < utc_iso(window.observed_end),
            AuditEntry.action.in_(VIEW_ACTIONS),
        )
        .group_by(AuditEntry.actor, AuditEntry.action, AuditEntry.target)
    )
    cameras = {place.camera.id for place in places}
    by_action = {action: 0 for action in VIEW_ACTIONS}
    by_actor: dict[str, dict[str, int]] = {}
    for actor, action, target, count in session.execute(query):
        if county is not None and target not in cameras and not str(target or "").startswith(f"{county}-"):
            continue
        by_action[action] += int(count)
        actor_counts = by_actor.setdefault(actor, {})
        actor_counts[action] = actor_counts.get(action, 0) + int(count)
    return {"by_action": by_action, "by_actor": dict(sorted(by_actor.items()))}


def _reflect(engine: Engine, name: str) -> Table | None:
    if not inspect(engine).has_table(name):
        return None
    return Table(name, MetaData(), autoload_with=engine)


def _epoch(value) -> float | None:
    """A reflected timestamp (aware, naive UTC, or ISO text on SQLite) as epoch seconds."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def incident_figures(engine: Engine, window: Window, county: str | None) -> dict | None:
    """Incidents by kind: opened, closed and overdue in the window, median time to acknowledge
    and to close; None when the database has no incident table."""
    if not inspect(engine).has_table(INCIDENT_TABLE):
        return None
    # only the incidents that touch the window, and only the columns counted (not every incident
    # ever, reflected: the table grows for as long as the installation runs)
    start = datetime.fromtimestamp(window.start, UTC)
    end = datetime.fromtimestamp(window.observed_end, UTC)
    query = select(
        Incident.kind,
        Incident.opened_at,
        Incident.acknowledged_at,
        Incident.closed_at,
        Incident.close_deadline_at,
    ).where(Incident.opened_at < end, or_(Incident.closed_at.is_(None), Incident.closed_at >= start))
    if county is not None:
        query = query.where(Incident.county == county)
    by_kind: dict[str, dict] = {}
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    for row in rows:
        opened = _epoch(row.get("opened_at"))
        if opened is None or opened >= window.observed_end:
            continue
        acknowledged = _epoch(row.get("acknowledged_at"))
        closed = _epoch(row.get("closed_at"))
        deadline = _epoch(row.get("close_deadline_at"))
        if closed is not None and closed < window.start:
            continue  # over before the window
        figures = by_kind.setdefault(
            str(row.get("kind")),
            {"opened": 0, "closed": 0, "overdue": 0, "open_at_end": 0, "_ack": [], "_close": []},
        )
        opened_here = opened >= window.start
        closed_here = closed is not None and closed < window.observed_end
        figures["opened"] += opened_here
        figures["closed"] += closed_here
        figures["open_at_end"] += not closed_here
        if deadline is not None and deadline < window.observed_end:
            figures["overdue"] += closed is None or closed > deadline
        if opened_here and acknowledged is not None:
            figures["_ack"].append(acknowledged - opened)
        if closed_here:
            figures["_close"].append(closed - opened)
    result = {}
    for kind, figures in sorted(by_kind.items()):
        result[kind] = {
            "opened": figures["opened"],
            "closed": figures["closed"],
            "overdue": figures["overdue"],
            "open_at_end": figures["open_at_end"],
            "ack_median_s": _median(figures["_ack"]),
            "close_median_s": _median(figures["_close"]),
        }
    totals = {
        key: sum(kind[key] for kind in result.values())
        for key in ("opened", "closed", "overdue", "open_at_end")
    }
    return {"by_kind": result, "total": totals}


def rollcall_figures(engine: Engine, window: Window, county: str | None) -> dict | None:
    """Roll-call results by outcome in the window, from the first roll-call table the database has
    with a time and a result column; None when there is none."""
    for name in ROLLCALL_TABLES:
        table = _reflect(engine, name)
        if table is None:
            continue
        time_column = next((table.c[c] for c in ROLLCALL_TIME_COLUMNS if c in table.c), None)
        result_column = next((table.c[c] for c in ROLLCALL_RESULT_COLUMNS if c in table.c), None)
        if time_column is None or result_column is None:
            continue
        query = select(time_column, result_column)
        if county is not None and "county" in table.c:
            query = query.where(table.c.county == county)
        counts: dict[str, int] = {}
        with engine.connect() as connection:
            for moment, outcome in connection.execute(query):
                at = _epoch(moment)
                if at is not None and window.start <= at < window.observed_end:
                    counts[str(outcome)] = counts.get(str(outcome), 0) + 1
        return {"table": name, "by_result": dict(sorted(counts.items())), "total": sum(counts.values())}
    return None


def _has_data(data: dict) -> bool:
    return bool(
        data["compliance"]["total"]["required"]
        or any(m["checks"] for m in data["compliance"]["by_method"].values())
        or data["coverage"]["recorded_h"]
        or data["coverage"]["gaps_h_by_reason"]
        or data["cases"]["total"]
        or any(data["inspection"]["by_action"].values())
        or (data["incidents"] and any(data["incidents"]["total"].values()))
        or (data["rollcalls"] and data["rollcalls"]["total"])
    )
