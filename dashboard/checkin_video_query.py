"""Reading video-verified check-ins: one check with its linked span and verdict, a county's recent ones."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from watchwall.config.timestamps import utc_iso
from watchwall.dashboard.checkin_video_models import CheckinVideo
from watchwall.metrics.masking import mask_name
from watchwall.metrics.models import LocationCheck, Subject


def video_of(row: CheckinVideo | None) -> dict | None:
    """The ``video`` object of a check (no snapshot bytes), or None when the check names no camera."""
    if row is None:
        return None
    return {
        "camera_id": row.camera_id,
        "from": utc_iso(row.span_start_utc),
        "to": utc_iso(row.span_end_utc),
        "state": row.state,
        "face_present": row.face_present,
        "frames_with_face": row.frames_with_face,
        "frames_sampled": row.frames_sampled,
        "reason": row.reason,
        "segment_hashes": json.loads(row.segment_hashes) if row.segment_hashes else [],
        "snapshot": row.snapshot_jpeg is not None,
        "checked_at": utc_iso(row.checked_utc) if row.checked_utc is not None else None,
        "incident_id": row.incident_id,
    }


def checkin_with_video(engine: Engine, external_id: str) -> dict | None:
    """The check ``external_id`` as ``watchwall checkins show`` prints it, or None if unknown."""
    with engine.connect() as connection:
        check = connection.execute(
            select(
                LocationCheck.county,
                LocationCheck.checked_at,
                LocationCheck.local_day,
                LocationCheck.slot,
                LocationCheck.method,
                LocationCheck.result,
                Subject.external_id.label("subject"),
                Subject.name,
            )
            .join(Subject, Subject.id == LocationCheck.subject_id)
            .where(LocationCheck.external_id == external_id)
        ).first()
        if check is None:
            return None
        with Session(connection) as session:
            video = video_of(
                session.scalars(
                    select(CheckinVideo).where(CheckinVideo.check_external_id == external_id)
                ).first()
            )
    return {
        "external_id": external_id,
        "subject": check.subject,
        "subject_name": mask_name(check.name),
        "county": check.county,
        "checked_at": utc_iso(check.checked_at),
        "local_day": check.local_day.isoformat(),
        "slot": check.slot,
        "method": check.method,
        "result": check.result,
        "video": video,
    }


def recent_video_checks(engine: Engine, county: str, limit: int = 12) -> list[dict]:
    """The county's latest video-verified checks, newest first, with the check's subject (masked)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                CheckinVideo.id,
                CheckinVideo.check_external_id,
                CheckinVideo.camera_id,
                CheckinVideo.span_start_utc,
                CheckinVideo.span_end_utc,
                CheckinVideo.state,
                CheckinVideo.face_present,
                CheckinVideo.frames_with_face,
                CheckinVideo.reason,
                (CheckinVideo.snapshot_jpeg.is_not(None)).label("has_snapshot"),
                LocationCheck.method,
                LocationCheck.checked_at,
                Subject.name,
            )
            .join(LocationCheck, LocationCheck.id == CheckinVideo.check_id)
            .join(Subject, Subject.id == LocationCheck.subject_id)
            .where(CheckinVideo.county == county)
            .order_by(CheckinVideo.span_start_utc.desc())
            .limit(limit)
        ).all()
    return [
        {
            "id": row.id,
            "external_id": row.check_external_id,
            "camera_id": row.camera_id,
            "from": utc_iso(row.span_start_utc),
            "to": utc_iso(row.span_end_utc),
            "state": row.state,
            "face_present": row.face_present,
            "frames_with_face": row.frames_with_face,
            "reason": row.reason,
            "has_snapshot": bool(row.has_snapshot),
            "method": row.method,
            "checked_at": utc_iso(row.checked_at),
            "subject_name": mask_name(row.name),
        }
        for row in rows
    ]


def snapshot_of(engine: Engine, video_id: int) -> tuple[str, str, bytes | None] | None:
    """(county, camera_id, JPEG) of one video-verified check's snapshot; None if no such check."""
    with engine.connect() as connection:
        row = connection.execute(
            select(CheckinVideo.county, CheckinVideo.camera_id, CheckinVideo.snapshot_jpeg).where(
                CheckinVideo.id == video_id
            )
        ).first()
    return None if row is None else (row.county, row.camera_id, row.snapshot_jpeg)
