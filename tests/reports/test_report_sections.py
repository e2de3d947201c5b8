"""Report sections read from tables other features own (incidents, roll-calls) and from the
recording index, on a migrated SQLite database with rows written here; and the bad requests."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select

from watchwall.audit.log import AuditEntry
from watchwall.config.database import make_engine, upgrade
from watchwall.config.settings import get_settings
from watchwall.config.site import load_site
from watchwall.incidents.models import Incident
from watchwall.metrics.localtime import SHANGHAI
from watchwall.reports.gather import gather
from watchwall.reports.period import ReportRequest, daily, monthly
from watchwall.video.record.models import RecordingGap, RecordingSegment

DAY = date(2026, 11, 20)
DAY_START = datetime(2026, 11, 20, tzinfo=SHANGHAI).astimezone(UTC)
LATER = datetime(2026, 12, 31, tzinfo=UTC)


def at(hours: float) -> datetime:
    return DAY_START + timedelta(hours=hours)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'reports.db'}"
    upgrade(url)
    return url


@pytest.fixture
def engine(sqlite_url):
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


def incidents_table(metadata: MetaData) -> Table:
    """The incidents feature's own table (the schema is migrated); reports read it by reflection."""
    return Incident.__table__


def incident(kind, county, opened, acknowledged=None, closed=None, deadline=None) -> dict:
    return {
        "kind": kind,
        "severity": "major",
        "state": "closed" if closed else "open",
        "county": county,
        "centre": county,
        "room": "checkin",
        "camera_id": f"{county}-checkin-1",
        "problem_key": f"{kind}:{county}:{opened.isoformat()}",
        "opened_at": opened,
        "last_seen_at": opened,
        "acknowledged_at": acknowledged,
        "closed_at": closed,
        "close_deadline_at": deadline,
        "ack_deadline_at": None,
    }


def test_incident_figures_by_kind(engine):
    metadata = MetaData()
    table = incidents_table(metadata)
    metadata.create_all(engine)
    rows = [
        # opened, acknowledged after 10 min, closed after 2 h, within its deadline
        incident("camera_offline", "qinzhou", at(1), at(1 + 10 / 60), at(3), deadline=at(5)),
        # opened, acknowledged after 30 min, still open past its deadline: overdue
        incident("camera_offline", "qinzhou", at(2), at(2.5), None, deadline=at(6)),
        # opened the day before, closed today after its deadline: closed and overdue, not opened
        incident("tamper", "qinzhou", at(-5), at(-4), at(4), deadline=at(-1)),
        # closed before the day: not in the report
        incident("tamper", "qinzhou", at(-30), at(-29), at(-20), deadline=at(-10)),
        # opened after the day: not in it
        incident("tamper", "qinzhou", at(30)),
        # another county's
        incident("camera_offline", "maiji", at(1), at(1.1), at(2), deadline=at(5)),
    ]
    with engine.begin() as connection:
        connection.execute(table.insert(), rows)
    site = load_site(get_settings().site)
    data = gather(engine, site, ReportRequest("qinzhou", daily(DAY)), SHANGHAI, LATER)
    incidents = data["incidents"]
    assert incidents["by_kind"] == {
        "camera_offline": {
            "opened": 2,
            "closed": 1,
            "overdue": 1,
            "open_at_end": 1,
            "ack_median_s": pytest.approx((600 + 1800) / 2),
            "close_median_s": pytest.approx(7200),
        },
        "tamper": {
            "opened": 0,
            "closed": 1,
            "overdue": 1,
            "open_at_end": 0,
            "ack_median_s": None,
            "close_median_s": pytest.approx(9 * 3600),
        },
    }
    assert incidents["total"] == {"opened": 2, "closed": 2, "overdue": 2, "open_at_end": 1}
    city = gather(engine, site, ReportRequest("city", daily(DAY)), SHANGHAI, LATER)["incidents"]
    assert city["total"]["opened"] == 3  # the other county's incident counts for the city


def test_rollcall_results_by_outcome(engine):
    metadata = MetaData()
    table = Table(
        "rollcall_results",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("county", String(32)),
        Column("called_at", DateTime(timezone=True)),
        Column("result", String(16)),
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            table.insert(),
            [
                {"county": "qinzhou", "called_at": at(9), "result": "answered"},
                {"county": "qinzhou", "called_at": at(15), "result": "answered"},
                {"county": "qinzhou", "called_at": at(16), "result": "unanswered"},
                {"county": "qinzhou", "called_at": at(40), "result": "answered"},  # the next day
                {"county": "maiji", "called_at": at(9), "result": "unanswered"},
            ],
        )
    site = load_site(get_settings().site)
    data = gather(engine, site, ReportRequest("qinzhou", daily(DAY)), SHANGHAI, LATER)
    assert data["rollcalls"] == {
        "table": "rollcall_results",
        "by_result": {"answered": 2, "unanswered": 1},
        "total": 3,
    }


def test_uptime_and_coverage_from_segments_and_gaps(engine):
    start = DAY_START.timestamp()
    segments = []
    for index in range(24 * 60):  # one camera recorded all day in 60 s segments but for 2 h offline
        begin = start + index * 60
        if 3600 * 5 <= index * 60 < 3600 * 7:
            continue
        segments.append(
            {
                "camera_id": "qinzhou-checkin-1",
                "path": f"q/{index}.mp4",
                "start_utc": begin,
                "end_utc": begin + 60,
                "duration_s": 60,
                "bytes": 1,
                "codec": "h264",
                "width": 640,
                "height": 360,
                "status": "closed",
            }
        )
    with engine.begin() as connection:
        connection.execute(RecordingSegment.__table__.insert(), segments)
        connection.execute(
            RecordingGap.__table__.insert(),
            [
                {
                    "camera_id": "qinzhou-checkin-1",
                    "start_utc": start + 5 * 3600,
                    "end_utc": start + 7 * 3600,
                    "reason": "camera_offline",
                },
                # a recorder stop: the camera was up, so uptime keeps it, coverage does not
                {
                    "camera_id": "qinzhou-announcement-1",
                    "start_utc": start - 3600,
                    "end_utc": start + 6 * 3600,
                    "reason": "recorder_stopped",
                },
            ],
        )
    site = load_site(get_settings().site)
    data = gather(engine, site, ReportRequest("qinzhou", daily(DAY)), SHANGHAI, LATER)
    cameras = {row["camera"]: row for row in data["cameras"]}
    assert cameras["qinzhou-checkin-1"]["recorded_s"] == pytest.approx(22 * 3600)
    assert cameras["qinzhou-checkin-1"]["uptime"] == pytest.approx(22 / 24)
    assert cameras["qinzhou-announcement-1"]["uptime"] == pytest.approx(1.0)
    assert cameras["qinzhou-admonition-1"]["uptime"] is None  # nothing known of it that day
    coverage = data["coverage"]
    assert coverage["expected_h"] == pytest.approx(24 * len(cameras))
    assert coverage["recorded_h"] == pytest.approx(22)
    assert coverage["gaps_h_by_reason"] == {
        "camera_offline": pytest.approx(2),
        "recorder_stopped": pytest.approx(6),
    }
    checkin_room = next(room for room in coverage["rooms"] if room["room"] == "checkin")
    assert checkin_room["coverage"] == pytest.approx(22 / 24)


def test_incident_section_in_the_pdf(sqlite_url, engine, run_watchwall, tmp_path):
    metadata = MetaData()
    table = incidents_table(metadata)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            table.insert(), [incident("disk_full", "qinzhou", at(1), at(1.5), at(3), deadline=at(2))]
        )
    out = tmp_path / "r.pdf"
    code, _, stderr = run_watchwall(
        sqlite_url, "report", "--county", "qinzhou", "--day", DAY.isoformat(), "--out", str(out)
    )
    assert code == 0, stderr
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())
    # kind, opened, closed, overdue, open at end, minutes to acknowledge, minutes to close
    assert "disk_full 1 1 1 0 30.0 120.0" in text
    assert "无点名数据" in text


def audit_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--county", "qinzhou", "--day", "2099-01-01"], "the day 2099-01-01 has not begun yet"),
        (["--city", "--month", "2099-02"], "the month 2099-02 has not begun yet"),
        (
            ["--county", "atlantis", "--day", "2026-11-20"],
            "unknown county 'atlantis' (the site's counties: qinzhou",
        ),
        (["--county", "qinzhou", "--day", "2026-13-01"], "--day '2026-13-01' is not a date"),
        (["--city", "--month", "2026-1"], "--month '2026-1' is not a month"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    sqlite_url, engine, run_watchwall, tmp_path, argv, message
):
    before = audit_count(engine)
    out = tmp_path / "bad.pdf"
    code, _, stderr = run_watchwall(sqlite_url, "report", *argv, "--out", str(out))
    assert code == 2
    assert message in stderr
    assert not out.exists() and not (tmp_path / "bad.pdf.sig").exists()
    assert audit_count(engine) == before


def test_an_existing_file_is_not_overwritten(sqlite_url, run_watchwall, tmp_path):
    out = tmp_path / "there.pdf"
    out.write_bytes(b"keep")
    code, _, stderr = run_watchwall(sqlite_url, "report", "--city", "--day", "2026-11-20", "--out", str(out))
    assert code == 2 and "exists" in stderr and out.read_bytes() == b"keep"


def test_a_month_without_data_gives_a_report_that_says_so(sqlite_url, run_watchwall, tmp_path):
    out = tmp_path / "empty.pdf"
    code, stdout, stderr = run_watchwall(
        sqlite_url, "report", "--city", "--month", "2015-01", "--out", str(out)
    )
    assert code == 0, stderr
    assert "no data for this period" in stdout
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())
    assert "本报告期内没有任何数据" in text
    signature = json.loads((tmp_path / "empty.pdf.sig").read_text())
    assert signature["report"]["id"] == "city-monthly-2015-01-zh-CN"


def test_a_month_is_as_of_its_last_second():
    period = monthly(2026, 2)
    assert (period.first, period.last) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period.as_of(SHANGHAI, LATER).isoformat() == "2026-02-28T15:59:59+00:00"
    running = monthly(2026, 12)
    now = datetime(2026, 12, 10, 4, 0, 0, 123, tzinfo=UTC)
    assert running.as_of(SHANGHAI, now) == now.replace(microsecond=0)
