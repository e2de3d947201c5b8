"""Recorded seconds per camera over a report's window, read from per-day roll-ups.

A closed day's figures (one row per camera in ``recording_daily``) are computed once from the
segment index and kept; the triggers of migration 0017 forget a day's rows whenever a segment
touching it is written, changed or deleted (retention included), so kept rows equal the direct
sum. The day still open (the one holding ``as_of``) is always summed live from the segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    case,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from watchwall.video.record.models import SEGMENT_EMPTY, RecordingDaily, RecordingSegment

# Longest segment the recorder writes is minutes; a day of slack keeps the range query on the index.
SEGMENT_SLACK_S = 86400.0

recording_daily = RecordingDaily.__table__


@dataclass(frozen=True)
class Span:
    """[start, end) in UTC epoch seconds; a segment still open counts up to ``as_of``."""

    start: float
    end: float
    as_of: float


def local_days(start: float, end: float, zone) -> list[tuple[date, float, float]]:
    """The local days of ``zone`` covering [start, end), with their UTC bounds."""
    days = []
    day = datetime.fromtimestamp(start, zone).date()
    while True:
        first = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
        if first >= end:
            return days
        following = day + timedelta(days=1)
        last = datetime(following.year, following.month, following.day, tzinfo=zone).timestamp()
        days.append((day, max(first, start), min(last, end)))
        day = following


def summed(session: Session, ids: list[str], span: Span) -> dict[str, tuple[float, int, int]]:
    """Per camera, straight from the segments: (clipped seconds, bytes started, segments)."""
    row_end = func.coalesce(RecordingSegment.end_utc, span.as_of)
    clipped_end = case((row_end > span.end, span.end), else_=row_end)
    clipped_start = case(
        (RecordingSegment.start_utc < span.start, span.start), else_=RecordingSegment.start_utc
    )
    started_bytes = case(
        (RecordingSegment.start_utc >= span.start, func.coalesce(RecordingSegment.bytes, 0)), else_=0
    )
    query = (
        select(
            RecordingSegment.camera_id,
            func.sum(clipped_end - clipped_start),
            func.sum(started_bytes),
            func.count(),
        )
        .where(
            RecordingSegment.camera_id.in_(ids),
            RecordingSegment.start_utc >= span.start - SEGMENT_SLACK_S,
            RecordingSegment.start_utc < span.end,
            row_end > span.start,
            RecordingSegment.status != SEGMENT_EMPTY,
        )
        .group_by(RecordingSegment.camera_id)
    )
    return {
        camera: (float(seconds or 0.0), int(size or 0), int(count))
        for camera, seconds, size, count in session.execute(query)
    }


def _kept(session: Session, ids: list[str], starts: list[float]) -> dict[tuple[str, float], tuple]:
    if not ids or not starts:
        return {}
    rows = session.execute(
        select(
            recording_daily.c.camera_id,
            recording_daily.c.day_start_utc,
            recording_daily.c.seconds,
            recording_daily.c.bytes,
            recording_daily.c.segments,
        ).where(recording_daily.c.camera_id.in_(ids), recording_daily.c.day_start_utc.in_(starts))
    )
    return {(camera, start): (seconds, size, count) for camera, start, seconds, size, count in rows}


def _keep(session: Session, rows: list[dict]) -> None:
    """Store computed days; another report storing the same day first is fine (same figures)."""
    if not rows:
        return
    try:
        session.execute(recording_daily.insert(), rows)
        session.commit()
    except (IntegrityError, OperationalError):  # kept by another report meanwhile, or locked
        session.rollback()


def recorded_by_camera(session: Session, ids: list[str], span: Span, zone) -> dict[str, tuple[float, int]]:
    """Per camera with any segment in the span: (recorded seconds, segments counted)."""
    totals: dict[str, list] = {}

    def add(camera: str, seconds: float, count: int) -> None:
        if count:
            total = totals.setdefault(camera, [0.0, 0])
            total[0] += seconds
            total[1] += count

    observed_end = min(span.end, span.as_of)
    if not ids or observed_end <= span.start:
        return {}
    days = local_days(span.start, observed_end, zone)
    # a day is closed, and may be kept, when it ends before as_of and is whole in the span
    closed = [day for day in days if day[2] <= span.as_of and _whole(day, zone)]
    live = [day for day in days if day not in closed]
    kept = _kept(session, ids, [start for _, start, _ in closed])
    new_rows = []
    for day, start, end in closed:
        missing = [camera for camera in ids if (camera, start) not in kept]
        if missing:
            computed = summed(session, missing, Span(start, end, span.as_of))
            for camera in missing:
                seconds, size, count = computed.get(camera, (0.0, 0, 0))
                kept[(camera, start)] = (seconds, size, count)
                new_rows.append(
                    {
                        "camera_id": camera,
                        "day_start_utc": start,
                        "day_end_utc": end,
                        "day": day.isoformat(),
                        "seconds": seconds,
                        "bytes": size,
                        "segments": count,
                    }
                )
        for camera in ids:
            seconds, _, count = kept[(camera, start)]
            add(camera, seconds, count)
    _keep(session, new_rows)
    for _, start, end in live:
        for camera, (seconds, _, count) in summed(session, ids, Span(start, end, span.as_of)).items():
            add(camera, seconds, count)
    return {camera: (seconds, count) for camera, (seconds, count) in totals.items()}


def _whole(day: tuple[date, float, float], zone) -> bool:
    """True when (day, start, end) spans the whole local day, not a part cut by the window."""
    local, start, end = day
    following = local + timedelta(days=1)
    return start == datetime(local.year, local.month, local.day, tzinfo=zone).timestamp() and end == (
        datetime(following.year, following.month, following.day, tzinfo=zone).timestamp()
    )
