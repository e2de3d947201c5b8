"""The ingest of a whole site: one supervised reader per enabled camera, a watchdog, events.

Owns each camera's fan-out and health; consumers (recorder, live view,
keyframe worker) subscribe to :meth:`IngestService.fanout`. Status changes
go to the event sink as ``camera.status``; losing video (stalled, offline,
error after having been online) raises a ``camera.alarm`` of kind
``video_loss`` that is cleared when packets flow again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from config.settings import Settings, get_settings
from config.site import CameraPlace, Site
from video.events import EventSink, MemorySink
from video.fanout import Fanout
from video.health import ERROR, OFFLINE, ONLINE, STALLED, CameraHealth, HealthSnapshot, iso_utc
from video.reader import CameraReader, ReaderOptions
from video.source_url import StreamSource, source_for_camera

log = logging.getLogger(__name__)

STATUS_EVENT = "camera.status"
ALARM_EVENT = "camera.alarm"
VIDEO_LOSS = "video_loss"
WATCHDOG_TICK_S = 0.2
ALARM_LOG_LENGTH = 100  # per camera


class IngestService:
    def __init__(
        self,
        site: Site,
        settings: Settings | None = None,
        sink: EventSink | None = None,
        options: ReaderOptions | None = None,
        camera_ids: Iterable[str] | None = None,
        keyframes: bool = True,
    ) -> None:
        self.settings = settings or get_settings()
        self.sink: EventSink = sink if sink is not None else MemorySink()
        self.options = options or ReaderOptions(stall_after_s=self.settings.stall_after_s)
        wanted = set(camera_ids) if camera_ids is not None else None
        self.places = {
            place.camera.id: place
            for place in site.cameras()
            if place.camera.enabled and (wanted is None or place.camera.id in wanted)
        }
        self.fanouts = {camera_id: Fanout(camera_id) for camera_id in self.places}
        self.healths = {
            camera_id: CameraHealth(camera_id, place.centre.code, self.options.stall_after_s)
            for camera_id, place in self.places.items()
        }
        self.readers = {
            camera_id: CameraReader(
                camera_id,
                self._source_factory(place),
                self.fanouts[camera_id],
                self.healths[camera_id],
                self.options,
                on_state=self._on_state,
            )
            for camera_id, place in self.places.items()
        }
        self.keyframe_workers: dict[str, Any] = self._keyframe_workers() if keyframes else {}
        self.recorders: dict[str, Any] = {}  # filled by video.recording_service when recording is on
        self._alarm_lock = threading.Lock()
        self._open_alarms: dict[str, dict] = {}
        self.alarms: dict[str, list[dict]] = {camera_id: [] for camera_id in self.places}
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None

    def _source_factory(self, place: CameraPlace) -> Callable[[], StreamSource]:
        label = f"{place.camera.id} {place.room.name.en}"
        demo_dir = Path(self.settings.data_dir) / "demo"

        def make() -> StreamSource:
            return source_for_camera(place.camera, label, demo_dir, self.settings.secrets_file)

        return make

    def _keyframe_workers(self) -> dict[str, Any]:
        """One thumbnail + analytics worker per camera (video.keyframes), fed keyframes by the fan-out."""
        from video.keyframes import KeyframeWorker

        thumbnails = Path(self.settings.data_dir) / "thumbnails"
        return {
            camera_id: KeyframeWorker(
                camera_id,
                self.fanouts[camera_id],
                self.sink,
                interval_s=self.settings.thumbnail_interval_s,
                thumbnail_dir=thumbnails,
                centre=place.centre.code,
            )
            for camera_id, place in self.places.items()
        }

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        for worker in self.keyframe_workers.values():
            worker.start()
        for reader in self.readers.values():
            reader.start()
        self._watchdog = threading.Thread(target=self._watch, name="ingest-watchdog", daemon=True)
        self._watchdog.start()

    def stop(self, timeout: float = 3.0) -> bool:
        """Stop everything within ``timeout``; False if a reader is still blocked in a read.

        A reader blocked in FFmpeg publishes nothing more and leaves by itself within the read timeout.
        """
        deadline = time.monotonic() + timeout
        self._stop.set()
        for reader in self.readers.values():
            reader.request_stop()
        for worker in self.keyframe_workers.values():
            worker.stop(timeout=max(0.1, deadline - time.monotonic()))
        blocked = [
            camera_id
            for camera_id, reader in self.readers.items()
            if not reader.join(max(0.0, deadline - time.monotonic()))
        ]
        if blocked:
            log.warning("readers still in an FFmpeg call, leaving by themselves: %s", ", ".join(blocked))
        if self._watchdog is not None:
            self._watchdog.join(max(0.0, deadline - time.monotonic()))
        return not blocked

    def __enter__(self) -> IngestService:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _watch(self) -> None:
        while not self._stop.wait(WATCHDOG_TICK_S):
            now = time.monotonic()
            for reader in self.readers.values():
                reader.check_watchdog(now)

    # --- events --------------------------------------------------------------------------------

    def _on_state(self, camera_id: str, state: str, error_kind: str | None, detail: str | None) -> None:
        centre = self.places[camera_id].centre.code
        now = time.time()
        payload = {
            "camera_id": camera_id,
            "centre": centre,
            "state": state,
            "error_kind": error_kind,
            "at": iso_utc(now),
            "detail": detail,
        }
        self.sink.emit(STATUS_EVENT, payload, room=centre)
        self._track_video_loss(camera_id, centre, state, now)

    def _track_video_loss(self, camera_id: str, centre: str, state: str, now: float) -> None:
        """One alarm entry per loss: raised when a camera that had video loses it, closed on its return."""
        with self._alarm_lock:
            alarm = self._open_alarms.get(camera_id)
            if state == ONLINE and alarm is not None:
                del self._open_alarms[camera_id]
                alarm.update(active=False, end=iso_utc(now))
            elif state in (STALLED, OFFLINE, ERROR) and alarm is None and self.healths[camera_id].packets > 0:
                alarm = {
                    "camera_id": camera_id,
                    "centre": centre,
                    "kind": VIDEO_LOSS,
                    "active": True,
                    "start": iso_utc(self.healths[camera_id].last_wallclock),
                    "end": None,
                    "detail": {"state": state},
                }
                self._open_alarms[camera_id] = alarm
                self.alarms[camera_id].append(alarm)
                del self.alarms[camera_id][:-ALARM_LOG_LENGTH]
            else:
                return
            payload = dict(alarm)
        self.sink.emit(ALARM_EVENT, payload, room=centre)

    # --- reading -------------------------------------------------------------------------------

    def fanout(self, camera_id: str) -> Fanout:
        return self.fanouts[camera_id]

    def camera_health(self, camera_id: str) -> HealthSnapshot:
        dropped = {s.name: s.dropped for s in self.fanouts[camera_id].subscribers}
        return self.healths[camera_id].snapshot(dropped)

    def health(self) -> dict[str, HealthSnapshot]:
        return {camera_id: self.camera_health(camera_id) for camera_id in self.places}

    def alarm_log(self, camera_id: str) -> list[dict]:
        """Video-loss alarms of the camera, then the keyframe worker's (tamper, frozen, dark ...).

        An alarm is one entry: ``active`` until it is cleared, then with its ``end``.
        """
        with self._alarm_lock:
            alarms = [dict(alarm) for alarm in self.alarms[camera_id]]
        worker = self.keyframe_workers.get(camera_id)
        if worker is not None:
            alarms += worker.alarm_log
        return alarms
