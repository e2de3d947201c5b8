"""The roll-call worker of a web (or serve) process: one thread that, every ``tick_s``,

- fails the calls whose countdown ended unanswered (and opens their incidents),
- fires the scheduled roll-calls that are due,
- hands each answered call whose clip span is recorded to the face check (a pool of
  ``FACE_WORKERS`` threads, each call once) and records the verdict, opening an incident on failure,
- bookmarks each decided call's clip once it is recorded, so inspectors find it on /recordings.

All of it is bounded: a fixed pool, at most ``MAX_CALLS_PER_TICK`` calls looked at a tick, a few
bookmark tries. Every state change is a conditional UPDATE (``rollcall.store``), so two processes
running this worker decide each call once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from watchwall.config.errors import UserError
from watchwall.config.settings import Settings
from watchwall.config.site import Site
from watchwall.incidents.store import open_incident
from watchwall.rollcall import scheduler, store
from watchwall.rollcall.face import FaceCheck, FaceVerdict
from watchwall.rollcall.models import NO_RECORDING
from watchwall.video.record.bookmarks import BookmarkError, add_bookmark, link_bookmark
from watchwall.video.record.models import RecordingSegment
from watchwall.video.record.playback import PLAYABLE

log = logging.getLogger(__name__)
FACE_WORKERS = 2
MAX_CALLS_PER_TICK = 50
BOOKMARK_TRIES = 3
RETRY_S = 10.0


def recorded_until(engine: Engine, camera_id: str) -> float | None:
    """The end (UTC seconds) of the camera's latest playable segment."""
    with Session(engine) as session:
        return session.scalar(
            select(func.max(RecordingSegment.end_utc)).where(
                RecordingSegment.camera_id == camera_id, RecordingSegment.status.in_(PLAYABLE)
            )
        )


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class RollcallWorker:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        site: Callable[[], Site],
        face_check: FaceCheck,
        *,
        recordings_dir: Path,
        publish: Callable[[dict], None] = lambda summary: None,
        publish_incident: Callable[[dict], None] = lambda summary: None,
        on_failed: Callable[[dict], None] = lambda summary: None,
        now: Callable[[], datetime] = store.utcnow,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.rollcall = settings.rollcall
        self.site = site
        self.face_check = face_check
        self.recordings_dir = recordings_dir
        self.publish = publish
        self.publish_incident = publish_incident
        self.on_failed = on_failed
        self.now = now
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(FACE_WORKERS, thread_name_prefix="rollcall-face")
        self._in_flight: set[int] = set()
        self._retry_after: dict[int, float] = {}  # a check that raised waits before it is tried again
        self._lock = threading.Lock()

    # --- lifecycle ---

    def start(self) -> RollcallWorker:
        self._thread = threading.Thread(target=self._run, name="rollcall-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except (SQLAlchemyError, UserError, OSError) as exc:  # database restarting: try next tick
                log.warning("roll-call worker: %s", exc)
            self._stop.wait(self.rollcall.tick_s)

    # --- one pass ---

    def tick(self) -> None:
        now = self.now()
        for failed in store.expire_due(self.engine, now):
            self._failed(failed)
        self._fire_schedule(now)
        self._check_answered(now)
        self._bookmark(now)

    def _fire_schedule(self, now: datetime) -> None:
        if not self.rollcall.schedule:
            return
        site = self.site()
        counties = {centre.code for centre in site.counties}
        scheduler.ensure_plans(self.engine, self.rollcall, counties, self.settings.zone, now)
        for plan in scheduler.claim_due(self.engine, self.rollcall, now):
            try:
                calls = store.start_rollcall(
                    self.engine,
                    site,
                    self.rollcall,
                    store.SystemActor(),
                    [plan.county],
                    origin="scheduled",
                    now=now,
                )
            except store.CentreBusy as exc:
                scheduler.postpone(self.engine, plan.id)
                log.info("scheduled roll-call of %s waits: %s", plan.county, exc)
                continue
            except UserError as exc:
                scheduler.record_outcome(self.engine, plan.id, f"refused: {exc}")
                log.warning("scheduled roll-call of %s refused: %s", plan.county, exc)
                continue
            scheduler.record_outcome(self.engine, plan.id, "started", calls[0]["rollcall_id"])
            for call in calls:
                self.publish(call)

    def _check_answered(self, now: datetime) -> None:
        grace = timedelta(seconds=self.rollcall.recording_grace_s)
        for call in store.answered_due(self.engine, now, limit=MAX_CALLS_PER_TICK):
            with self._lock:
                if call["id"] in self._in_flight or self._retry_after.get(call["id"], 0) > time.monotonic():
                    continue
            end = _moment(call["clip_end_at"])
            recorded = recorded_until(self.engine, call["camera_id"])
            if (recorded is None or recorded < end.timestamp()) and now < end + grace:
                continue  # the span's last segment is still being written
            with self._lock:
                self._in_flight.add(call["id"])
            self._pool.submit(self._decide, call)

    def _decide(self, call: dict) -> None:
        try:
            start, end = _moment(call["clip_start_at"]).timestamp(), _moment(call["clip_end_at"]).timestamp()
            try:
                verdict = self.face_check(self.engine, self.recordings_dir, call["camera_id"], start, end)
            except UserError as exc:  # e.g. nothing recorded in the span: no face can be seen
                log.info("roll-call %s face check: %s", call["id"], exc)
                verdict = FaceVerdict(False, 0, 0, NO_RECORDING)
            decided = store.record_verdict(self.engine, call["id"], verdict, self.now())
            with self._lock:
                self._retry_after.pop(call["id"], None)
            if decided is None:
                return
            if decided["state"] == "failed":
                self._failed(decided)
            else:
                self.publish(decided)
        except Exception:  # a pool thread must not die silently: the call is tried again later
            log.exception("roll-call %s: the verdict failed; trying again in %s s", call["id"], RETRY_S)
            with self._lock:
                self._retry_after[call["id"]] = time.monotonic() + RETRY_S
        finally:
            with self._lock:
                self._in_flight.discard(call["id"])

    def _failed(self, call: dict) -> None:
        try:
            incident = open_incident(
                self.engine,
                self.settings.incidents,
                kind="rollcall_failed",
                county=call["county"],
                problem_key=f"rollcall:{call['id']}",
                centre=call["county"],
                room=call["room"],
                camera_id=call["camera_id"],
                detail={"rollcall_id": call["rollcall_id"], "call_id": call["id"], "reason": call["reason"]},
            )
        except (UserError, SQLAlchemyError) as exc:
            log.warning("roll-call %s failed but its incident could not be opened: %s", call["id"], exc)
            self.publish(call)
            self.on_failed(call)
            return
        call = store.set_links(self.engine, call["id"], incident_id=incident["id"])
        self.publish_incident(incident)
        self.publish(call)
        self.on_failed(call)

    def _bookmark(self, now: datetime) -> None:
        grace = timedelta(seconds=self.rollcall.recording_grace_s)
        for call in store.unbookmarked(self.engine, BOOKMARK_TRIES, limit=MAX_CALLS_PER_TICK):
            end = _moment(call["clip_end_at"])
            recorded = recorded_until(self.engine, call["camera_id"])
            if recorded is None or recorded < end.timestamp():
                if now >= end + grace * (call.get("bookmark_tries", 0) + 1):
                    store.set_links(self.engine, call["id"], bookmark_try=True)
                continue
            try:
                bookmark = add_bookmark(
                    self.engine,
                    camera_id=call["camera_id"],
                    centre=call["county"],
                    start_utc=_moment(call["clip_start_at"]).timestamp(),
                    end_utc=end.timestamp(),
                    title=f"视频点名 roll-call {call['rollcall_id']}: {call['county']} {call['state']}",
                    note=f"reason: {call['reason']}" if call["reason"] else None,
                    category="other",
                    author=store.SYSTEM,
                )
                link_bookmark(self.engine, bookmark.id, "rollcall", str(call["id"]), user=store.SYSTEM)
            except BookmarkError as exc:
                log.info("roll-call %s clip not bookmarked yet: %s", call["id"], exc)
                store.set_links(self.engine, call["id"], bookmark_try=True)
                continue
            self.publish(store.set_links(self.engine, call["id"], bookmark_id=bookmark.id))
