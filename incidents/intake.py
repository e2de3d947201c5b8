"""Alarms become incidents off the ingest's threads.

:class:`IncidentSink` wraps the ingest's event sink: every event passes through unchanged,
and the alarm events are also put on a queue (one ``put_nowait``, nothing else on the
reader's or keyframe worker's thread). :class:`IncidentIntake`'s own thread drains the
queue every ``batch_s``, applies the batch in one transaction and publishes the changed
incidents as ``incident.changed`` to their centre's room; a flapping incident's count and
recovery at most once every ``push_every_s`` (:mod:`watchwall.incidents.push_coalescing`).
The alarm itself was pushed before it was queued: no database work is on its way to the pages.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from watchwall.incidents.kinds import ALARM_EVENT, SOURCE_EVENTS, kind_of_event, problem_key
from watchwall.incidents.push_coalescing import PushCoalescer
from watchwall.incidents.store import Report

log = logging.getLogger(__name__)

CHANGED_EVENT = "incident.changed"
MAX_QUEUED = 100_000
MAX_BATCH = 5_000


@dataclass(frozen=True)
class Place:
    county: str
    centre: str
    room: str | None = None


class IncidentIntake:
    def __init__(
        self,
        apply: Callable[[list[Report]], list[dict]],
        place_of: Callable[[str], Place | None],
        publish: Callable[[dict], None],
        batch_s: float = 0.3,
        push_every_s: float = 0.0,
    ) -> None:
        self.apply = apply
        self.place_of = place_of
        self.publish = publish
        self.batch_s = batch_s
        self.pushes = PushCoalescer(publish, push_every_s)
        self._queue: queue.Queue[tuple[str, dict, float]] = queue.Queue(maxsize=MAX_QUEUED)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.offered = 0
        self.dropped = 0
        self.applied = 0
        self.batches = 0
        self.failures = 0

    # --- the ingest's side: O(1) ------------------------------------------------------------------

    def offer(self, event: str, payload: dict) -> None:
        if event not in SOURCE_EVENTS:
            return
        try:
            self._queue.put_nowait((event, payload, datetime.now(UTC).timestamp()))
            self.offered += 1
        except queue.Full:
            self.dropped += 1

    def sink(self, inner) -> IncidentSink:
        return IncidentSink(inner, self)

    # --- its own thread ---------------------------------------------------------------------------

    def start(self) -> IncidentIntake:
        self._thread = threading.Thread(target=self._run, name="incident-intake", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.drain()  # what arrived last is not lost on an orderly stop
        self.pushes.push_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            due = self.pushes.due_in()
            try:
                first = self._queue.get(timeout=0.5 if due is None else min(0.5, max(due, 0.001)))
            except queue.Empty:
                self.pushes.push_due()
                continue
            self._stop.wait(self.batch_s)  # gather what arrives meanwhile into the same transaction
            self.drain([first])

    def drain(self, batch: list | None = None) -> int:
        """Apply everything queued now (and ``batch``); returns how many events were taken."""
        batch = list(batch or [])
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if not batch:
            return 0
        reports = [report for report in (self.report_of(*item) for item in batch) if report is not None]
        try:
            changed = self.apply(reports) if reports else []
        except Exception:  # the database away for a moment: these reports are lost, the next ones count
            self.failures += 1
            log.exception("could not apply %d incident reports", len(reports))
            return len(batch)
        self.applied += len(reports)
        self.batches += 1
        for summary in changed:
            self.pushes.offer(summary)
        self.pushes.push_due()
        return len(batch)

    def report_of(self, event: str, payload: dict, at: float) -> Report | None:
        kind = kind_of_event(event, payload)
        camera_id = payload.get("camera_id")
        if kind is None or not camera_id:
            return None
        place = self.place_of(camera_id)
        if place is None:
            return None
        active = bool(payload.get("active", True)) if event == ALARM_EVENT else True
        detail = {key: payload[key] for key in ("detail", "error", "path") if payload.get(key) is not None}
        return Report(
            kind=kind,
            county=place.county,
            problem_key=problem_key(kind, camera_id=camera_id),
            at=datetime.fromtimestamp(at, UTC),
            active=active,
            centre=place.centre,
            room=place.room,
            camera_id=camera_id,
            detail=detail,
        )


def places_in(site_of: Callable[[], object]) -> Callable[[str], Place | None]:
    """Where a camera is, read from the current site (``site_of()``: it changes with the inventory)."""

    def place_of(camera_id: str) -> Place | None:
        try:
            place = site_of().camera(camera_id)
        except KeyError:
            return None
        return Place(county=place.centre.code, centre=place.centre.code, room=place.room.code)

    return place_of


def publish_through(sink) -> Callable[[dict], None]:
    """``incident.changed`` to the rooms of the incident's centre and of the county handling it."""

    def publish(summary: dict) -> None:
        for room in {summary.get("centre"), summary.get("county")} - {None}:
            sink.emit(CHANGED_EVENT, summary, room=room)

    return publish


class IncidentSink:
    """An event sink that also hands the alarm events to the intake."""

    def __init__(self, inner, intake: IncidentIntake) -> None:
        self.inner = inner
        self.intake = intake

    def emit(self, event: str, payload: dict, room: str | None = None) -> None:
        self.inner.emit(event, payload, room=room)
        self.intake.offer(event, payload)
