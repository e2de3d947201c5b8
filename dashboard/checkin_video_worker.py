"""The face checks of video-verified check-ins, run in the background once their spans are recorded.

The queue is the ``checkin_video`` table: a pending row is due once its span's end plus a
margin has passed and the recording index has moved past the span's end (the segment
holding it is closed), or at the latest at its ``give_up_utc`` (a camera that stopped
recording: what is there is checked, maybe nothing, ``no_recording``). A worker claims a
row with a conditional UPDATE (two web nodes never check the same row; a claim older than
``STALE_CLAIM_S`` is taken again, so a crash mid-check loses nothing). Each pass checks at
most ``batch_size`` rows. A span without a face opens an incident (``checkin_no_face``)
naming the method and the camera.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine

from watchwall.config.settings import Settings
from watchwall.dashboard.checkin_video_models import DONE, PENDING, RUNNING, CheckinVideo
from watchwall.incidents.store import open_incident
from watchwall.metrics.masking import mask_name
from watchwall.metrics.models import LocationCheck, Subject
from watchwall.video.analysis.face_detector import HaarFaceDetector
from watchwall.video.analysis.face_presence import FacePresence, RecordingLookup, check_span, span_settled
from watchwall.video.analysis.opencv_at_exit import InterpreterExiting

log = logging.getLogger(__name__)

WORKER_KEY = "checkin_video_worker"
INCIDENT_KIND = "checkin_no_face"
STALE_CLAIM_S = 600.0
MAX_ATTEMPTS = 3  # a check that fails (an unreadable segment) this often is stored as failed
RETRY_AFTER_S = 30.0
CHECK_FAILED = "check_failed"
VERDICT_EVENT = "checkin_video.changed"  # {"check", "county", "face_present"}, to the county's room


def no_face_key(check_external_id: str) -> str:
    return f"check:{check_external_id}:no_face"


class CheckinVideoWorker:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        lookup: RecordingLookup,
        *,
        clock: Callable[[], float] = time.time,
        on_verdict: Callable[[dict], None] | None = None,
        on_incident: Callable[[dict], None] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.lookup = lookup
        self.clock = clock
        self.on_verdict = on_verdict
        self.on_incident = on_incident
        self.detector = HaarFaceDetector.from_settings(settings.face_check)
        self.checked = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkin-video", daemon=True)

    def start(self) -> CheckinVideoWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except InterpreterExiting:  # a claimed row is taken up again once its claim is stale
                return
            except Exception:  # the database is away: the next pass retries
                log.exception("video check-in pass failed")
            self._stop.wait(self.settings.checkin_video.poll_interval_s)

    def run_once(self) -> int:
        """Check the rows that are due now; returns how many were checked."""
        done = 0
        for row_id in self._due(self.clock()):
            if self._stop.is_set():
                break
            row = self._claim(row_id, self.clock())
            if row is not None:
                self._check(row)
                done += 1
        self.checked += done
        return done

    def _due(self, now: float) -> list[int]:
        stale = now - STALE_CLAIM_S
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    CheckinVideo.id,
                    CheckinVideo.camera_id,
                    CheckinVideo.span_end_utc,
                    CheckinVideo.give_up_utc,
                )
                .where(
                    or_(
                        and_(CheckinVideo.state == PENDING, CheckinVideo.due_utc <= now),
                        and_(CheckinVideo.state == RUNNING, CheckinVideo.claimed_utc < stale),
                    )
                )
                .order_by(CheckinVideo.due_utc)
                .limit(self.settings.checkin_video.batch_size * 4)
            ).all()
        due = []
        for row in rows:
            if now >= row.give_up_utc or span_settled(self.lookup, row.camera_id, row.span_end_utc):
                due.append(row.id)
            if len(due) >= self.settings.checkin_video.batch_size:
                break
        return due

    def _claim(self, row_id: int, now: float) -> CheckinVideo | None:
        stale = now - STALE_CLAIM_S
        with self.engine.begin() as connection:
            claimed = connection.execute(
                update(CheckinVideo)
                .where(
                    CheckinVideo.id == row_id,
                    or_(
                        CheckinVideo.state == PENDING,
                        and_(CheckinVideo.state == RUNNING, CheckinVideo.claimed_utc < stale),
                    ),
                )
                .values(state=RUNNING, claimed_utc=now, attempts=CheckinVideo.attempts + 1)
            ).rowcount
            if claimed != 1:
                return None
            return connection.execute(select(CheckinVideo).where(CheckinVideo.id == row_id)).first()

    def _check(self, row) -> None:
        try:
            result = check_span(
                self.lookup,
                row.camera_id,
                row.span_start_utc,
                row.span_end_utc,
                self.settings.face_check,
                detector=self.detector,
            )
        except Exception as exc:
            log.exception("face check of check-in %s failed", row.check_external_id)
            self._failed(row, exc)
            return
        self._store(row, result)

    def _failed(self, row, exc: Exception) -> None:
        if row.attempts < MAX_ATTEMPTS:
            with self.engine.begin() as connection:
                connection.execute(
                    update(CheckinVideo)
                    .where(CheckinVideo.id == row.id)
                    .values(state=PENDING, due_utc=self.clock() + RETRY_AFTER_S, error=str(exc)[:500])
                )
            return
        failed = FacePresence(
            row.camera_id, row.span_start_utc, row.span_end_utc, False, 0, 0, 0, reason=CHECK_FAILED
        )
        self._store(row, failed, error=str(exc)[:500])

    def _store(self, row, result: FacePresence, error: str | None = None) -> None:
        incident_id = None if result.face_present else self._open_incident(row, result)
        with self.engine.begin() as connection:
            connection.execute(
                update(CheckinVideo)
                .where(CheckinVideo.id == row.id)
                .values(
                    state=DONE,
                    checked_utc=self.clock(),
                    face_present=result.face_present,
                    frames_with_face=result.frames_with_face,
                    frames_sampled=result.frames_sampled,
                    reason=result.reason,
                    segment_hashes=json.dumps(result.segment_hashes),
                    snapshot_jpeg=result.snapshot_jpeg,
                    snapshot_utc=result.snapshot_utc,
                    incident_id=incident_id,
                    error=error,
                )
            )
        log.info(
            "check-in %s at camera %s: face %s (%d of %d frames)%s",
            row.check_external_id,
            row.camera_id,
            "present" if result.face_present else "absent",
            result.frames_with_face,
            result.frames_sampled,
            f", {result.reason}" if result.reason else "",
        )
        if self.on_verdict is not None:
            self.on_verdict({"check": row.check_external_id, "county": row.county, **result.as_dict()})

    def _open_incident(self, row, result: FacePresence) -> int | None:
        with self.engine.connect() as connection:
            check = connection.execute(
                select(LocationCheck.method, LocationCheck.checked_at, Subject.name)
                .join(Subject, Subject.id == LocationCheck.subject_id)
                .where(LocationCheck.id == row.check_id)
            ).first()
        if check is None:  # the check was deleted meanwhile
            return None
        summary = open_incident(
            self.engine,
            self.settings.incidents,
            kind=INCIDENT_KIND,
            county=row.county,
            problem_key=no_face_key(row.check_external_id),
            camera_id=row.camera_id,
            subject_ref=mask_name(check.name),
            detail={
                "check": row.check_external_id,
                "method": check.method,
                "camera_id": row.camera_id,
                "from": datetime.fromtimestamp(row.span_start_utc, UTC).isoformat(),
                "to": datetime.fromtimestamp(row.span_end_utc, UTC).isoformat(),
                "frames_with_face": result.frames_with_face,
                "frames_sampled": result.frames_sampled,
                "reason": result.reason,
            },
            at=check.checked_at,
        )
        if self.on_incident is not None:
            self.on_incident(summary)
        return summary["id"]


def start_worker(context) -> CheckinVideoWorker:
    """The worker of a running WatchWall (``serve`` and the web role), kept in ``context.extras``."""
    from watchwall.dashboard.incident_service import publisher
    from watchwall.video.state.events import SocketIOSink

    sink = SocketIOSink(context.socketio)

    def pushed(verdict: dict) -> None:
        """The county page's list of video checks reloads (assets/checkin-video.js)."""
        sink.emit(
            VERDICT_EVENT,
            {"check": verdict["check"], "county": verdict["county"], "face_present": verdict["face_present"]},
            room=verdict["county"],
        )

    worker = CheckinVideoWorker(
        context.engine,
        context.settings,
        RecordingLookup.from_settings(context.engine, context.settings),
        on_verdict=pushed,
        on_incident=publisher(context),
    ).start()
    context.extras[WORKER_KEY] = worker
    return worker


def stop_worker(context) -> None:
    worker = context.extras.pop(WORKER_KEY, None)
    if worker is not None:
        worker.stop()
