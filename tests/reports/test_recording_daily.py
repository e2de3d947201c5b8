"""Per-day recording roll-ups equal the direct sum over the segments, on SQLite and PostgreSQL:
closed days are kept, the open day is live, and a segment written, pruned by retention or deleted
afterwards makes the kept days it touches computed again."""

from __future__ import annotations

from datetime import datetime
from itertools import count

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from watchwall.config.database import make_engine, upgrade
from watchwall.metrics.localtime import SHANGHAI
from watchwall.reports.recording_daily import Span, recorded_by_camera, recording_daily, summed
from watchwall.video.record.models import RecordingSegment

CAMERAS = ["cam-a", "cam-b", "cam-idle"]
DAY1 = datetime(2026, 11, 1, tzinfo=SHANGHAI).timestamp()
DAY = 86400.0
AS_OF = DAY1 + 3 * DAY + 13.5 * 3600  # day 4, 13:30 local: days 1-3 closed, day 4 open
NUMBERS = count(1)
MONTH = Span(DAY1, DAY1 + 30 * DAY, AS_OF)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'daily.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres").migrated("ww_daily")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def segment(camera: str, start: float, end: float | None, status: str = "closed") -> dict:
    number = next(NUMBERS)
    return {
        "camera_id": camera,
        "path": f"{camera}/{number}.mp4",
        "start_utc": start,
        "end_utc": end,
        "duration_s": None if end is None else end - start,
        "bytes": 1000,
        "codec": "h264",
        "width": 640,
        "height": 360,
        "status": status,
    }


def load(engine) -> None:
    rows = []
    for camera, length in (("cam-a", 600.0), ("cam-b", 1700.0)):
        moment = DAY1 - 900.0  # the first segment starts before the month
        while moment + length < AS_OF - 3600:
            rows.append(segment(camera, moment, moment + length))
            moment += length + 37.0  # with small gaps, and segments across midnight
    rows.append(segment("cam-a", AS_OF - 1800, None, status="open"))  # still recording
    rows.append(segment("cam-b", DAY1 + 5000, DAY1 + 5100, status="empty"))  # never counted
    with engine.begin() as connection:
        connection.execute(RecordingSegment.__table__.insert(), rows)


def direct(engine) -> dict[str, float]:
    with Session(engine) as session:
        end = min(MONTH.end, MONTH.as_of)
        return {
            camera: seconds
            for camera, (seconds, _, _) in summed(session, CAMERAS, Span(MONTH.start, end, AS_OF)).items()
        }


def rolled(engine) -> dict[str, float]:
    with Session(engine) as session:
        return {
            camera: seconds
            for camera, (seconds, _) in recorded_by_camera(session, CAMERAS, MONTH, SHANGHAI).items()
        }


def kept_days(engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(select(recording_daily.c.camera_id, recording_daily.c.day))
        return sorted((camera, day) for camera, day in rows)


def same(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for camera, seconds in want.items():
        assert got[camera] == pytest.approx(seconds, rel=1e-12, abs=1e-6), camera


def test_roll_up_equals_the_direct_sum_and_follows_writes_and_retention(engine):
    load(engine)
    want = direct(engine)
    assert set(want) == {"cam-a", "cam-b"} and want["cam-a"] > 3 * DAY * 0.9
    same(rolled(engine), want)
    # the three closed days are kept for every camera (the idle one as zero); the open day is not
    days = kept_days(engine)
    assert days == sorted((camera, f"2026-11-0{n}") for camera in CAMERAS for n in (1, 2, 3))
    with engine.connect() as connection:
        idle = connection.execute(
            select(recording_daily.c.seconds).where(recording_daily.c.camera_id == "cam-idle")
        ).scalars()
        assert list(idle) == [0.0, 0.0, 0.0]
    # read again: from the kept rows, same figures
    same(rolled(engine), want)

    # retention prunes a day-2 segment (a tombstone row: status and pruned time change)
    day2 = DAY1 + DAY + 4 * 3600
    with Session(engine) as session, session.begin():
        first = session.scalars(
            select(RecordingSegment)
            .where(RecordingSegment.camera_id == "cam-a", RecordingSegment.start_utc >= day2)
            .order_by(RecordingSegment.start_utc)
            .limit(1)
        ).one()
        first.status = "pruned"
        first.pruned_utc = AS_OF
        first.pruned_reason = "max_age"
    # then a day-1 segment of cam-b is deleted outright, and the one across the 2nd-3rd midnight
    midnight = DAY1 + 2 * DAY
    with engine.begin() as connection:
        connection.execute(
            delete(RecordingSegment).where(
                RecordingSegment.camera_id == "cam-b",
                RecordingSegment.start_utc.between(DAY1 + 3600, DAY1 + 3 * 3600),
            )
        )
        connection.execute(
            delete(RecordingSegment).where(
                RecordingSegment.camera_id == "cam-a",
                RecordingSegment.start_utc < midnight,
                RecordingSegment.end_utc > midnight,
            )
        )
    days = kept_days(engine)
    assert ("cam-b", "2026-11-01") not in days  # forgotten by the delete
    assert ("cam-a", "2026-11-02") not in days  # forgotten by the prune (a tombstone still counts)
    assert ("cam-a", "2026-11-03") not in days and ("cam-a", "2026-11-01") in days
    after = direct(engine)
    assert after["cam-b"] < want["cam-b"] and after["cam-a"] < want["cam-a"]
    same(rolled(engine), after)

    # a late write into a closed day (a recovered segment) and a change of one's end
    with engine.begin() as connection:
        connection.execute(
            RecordingSegment.__table__.insert(), [segment("cam-idle", DAY1 + DAY + 100, DAY1 + DAY + 400)]
        )
        connection.execute(
            update(RecordingSegment)
            .where(RecordingSegment.camera_id == "cam-b", RecordingSegment.start_utc < DAY1)
            .values(end_utc=DAY1 + 10.0)
        )
    assert ("cam-idle", "2026-11-02") not in kept_days(engine)
    same(rolled(engine), direct(engine))
    assert rolled(engine)["cam-idle"] == pytest.approx(300.0)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(recording_daily)).scalar() == 9


def test_the_open_day_moves_with_as_of(engine):
    load(engine)
    earlier = Span(MONTH.start, MONTH.end, AS_OF - 3 * 3600)
    later = Span(MONTH.start, MONTH.end, AS_OF)
    with Session(engine) as session:
        a = recorded_by_camera(session, CAMERAS, earlier, SHANGHAI)["cam-a"][0]
        b = recorded_by_camera(session, CAMERAS, later, SHANGHAI)["cam-a"][0]
        want = summed(session, ["cam-a"], Span(MONTH.start, AS_OF, AS_OF))["cam-a"][0]
    assert b == pytest.approx(want, rel=1e-12)
    assert b > a  # the open day and the open segment grew, the kept days did not hide it
