"""The ingest of a whole site: one supervised reader per stream of each enabled camera, a watchdog, events.

A camera has a main stream and, with ``sub_rtsp``, a sub stream (video.ingest.stream_pair):
each with its own reader, fan-out and health; the camera's roles (``streams:`` in the site
file) say which one is recorded, which one feeds the tiles and which one the thumbnails.
Owns each stream's fan-out and health; consumers (recorder, live view,
keyframe worker) subscribe to :meth:`IngestService.fanout` (the recorded stream) or
:meth:`IngestService.stream_fanout`. The cameras can
change while it runs (:meth:`IngestService.sync`, fed by the inventory
watcher); per-camera followers such as the recorders are told. Status changes
go to the event sink as ``camera.status``; losing video (stalled, offline,
error after having been online) raises a ``camera.alarm`` of kind
``video_loss`` that is cleared when packets flow again. Both are the main stream's; the
sub stream's state changes go out as ``camera.stream`` (``"stream": "sub"``) and raise no
alarm: the recording goes on, and the tiles fall back (video.live.stream_choice).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from watchwall.config.settings import Settings, get_settings
from watchwall.config.site import CameraPlace, Site
from watchwall.config.timestamps import optional_utc_iso
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.health import (
    ERROR,
    OFFLINE,
    ONLINE,
    STALLED,
    STOPPED,
    CameraHealth,
    HealthSnapshot,
)
from watchwall.video.ingest.keyframes import KeyframeWorker
from watchwall.video.ingest.reader import CameraReader, ReaderOptions
from watchwall.video.ingest.source_url import source_for_camera, sub_stream_source
from watchwall.video.ingest.stream_pair import (
    MAIN,
    SUB,
    StreamPipe,
    stream_summary,
    sub_larger_than_main,
)
from watchwall.video.ingest.stream_source import StreamSource
from watchwall.video.rtsp.loop import RtspLoop
from watchwall.video.state.events import Alarm, Event, EventSink, MemorySink

log = logging.getLogger(__name__)

STATUS_EVENT = Event.CAMERA_STATUS
STREAM_EVENT = Event.CAMERA_STREAM
ALARM_EVENT = Event.CAMERA_ALARM
VIDEO_LOSS = Alarm.VIDEO_LOSS
WATCHDOG_TICK_S = 0.2
ALARM_LOG_LENGTH = 100  # per camera
# The main stream's GOP is kept for a live view's instant start only when Debian's Chromium can
# play it (its MSE has no H.265); the sub stream's always (video.ingest.fanout).
MAIN_WHOLE_GOP_CODECS = frozenset({"h264"})


@dataclass(frozen=True)
class PullChanges:
    """What :meth:`IngestService.sync` did, camera ids in order."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    restarted: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.restarted)


class IngestFollower(Protocol):
    """Something kept per camera beside the ingest (a recorder): told when a camera comes and goes.

    ``camera_added`` is called before the camera's reader starts, so the first packet is seen;
    ``camera_removed`` after its reader has been told to stop.
    """

    def camera_added(self, camera_id: str, fanout: Fanout) -> None: ...

    def camera_removed(self, camera_id: str) -> None: ...


def _how_pulled(place: CameraPlace) -> dict:
    """What a camera's reader and events depend on: all of it but its name and room."""
    return {"camera": place.camera.model_dump(exclude={"name"}), "centre": place.centre.code}


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
        RtspLoop.shared().tick_s = self.settings.rtsp_poll_interval_s
        self._wanted_ids = set(camera_ids) if camera_ids is not None else None
        self._with_keyframes = keyframes
        # The per-camera dicts below change in place while running (sync), under _lock:
        # the live hub keeps a reference to ``fanouts``.
        self._lock = threading.RLock()
        self.places: dict[str, CameraPlace] = {}
        # Per camera: the recorded stream's fan-out (the main stream's unless its roles say sub),
        # the main stream's health and reader; every stream in ``streams``.
        self.fanouts: dict[str, Fanout] = {}
        self.healths: dict[str, CameraHealth] = {}
        self.readers: dict[str, CameraReader] = {}
        self.streams: dict[str, dict[str, StreamPipe]] = {}
        # Fan-outs of every stream by camera and stream name, the live hub's view (a reference is kept).
        self.stream_fanouts: dict[str, dict[str, Fanout]] = {}
        self.keyframe_workers: dict[str, Any] = {}
        self.recorders: dict[str, Any] = {}  # filled by video.record.recording_service when recording is on
        self.alarms: dict[str, list[dict]] = {}
        # A removed camera's fan-out is kept: if it comes back, live channels still attached to it resume.
        self._retired_fanouts: dict[tuple[str, str], Fanout] = {}
        self._followers: list[IngestFollower] = []
        self._alarm_lock = threading.Lock()
        self._open_alarms: dict[str, dict] = {}
        self._started = False
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        for place in self._wanted(site).values():
            self._add(place)

    def _wanted(self, site: Site) -> dict[str, CameraPlace]:
        return {
            place.camera.id: place
            for place in site.cameras()
            if place.camera.enabled and (self._wanted_ids is None or place.camera.id in self._wanted_ids)
        }

    def _source_factory(self, place: CameraPlace, stream: str = MAIN) -> Callable[[], StreamSource]:
        label = f"{place.camera.id} {place.room.name.en}"
        demo_dir = Path(self.settings.data_dir) / "demo"

        def make() -> StreamSource:
            if stream == SUB:
                return sub_stream_source(place.camera, self.settings.secrets_file)
            return source_for_camera(place.camera, label, demo_dir, self.settings.secrets_file)

        return make

    def _keyframe_worker(self, camera_id: str, place: CameraPlace):
        """The camera's thumbnail + analytics worker (video.ingest.keyframes), fed keyframes by the
        stream of the thumbnails role (the sub stream by default), and by the other one while that is silent."""
        fanouts = self.stream_fanouts[camera_id]
        chosen = place.camera.stream_for("thumbnails")
        other = next((fanout for name, fanout in fanouts.items() if name != chosen), None)
        return KeyframeWorker(
            camera_id,
            fanouts[chosen],
            self.sink,
            fallback=other,
            interval_s=self.settings.thumbnail_interval_s,
            thumbnail_dir=Path(self.settings.data_dir) / "thumbnails",
            centre=place.centre.code,
        )

    # --- cameras coming and going ---------------------------------------------------------------

    def _pipe(self, place: CameraPlace, stream: str) -> StreamPipe:
        camera_id = place.camera.id
        fanout = self._retired_fanouts.pop((camera_id, stream), None) or Fanout(
            camera_id, whole_gop_codecs=MAIN_WHOLE_GOP_CODECS if stream == MAIN else None
        )
        health = CameraHealth(camera_id, place.centre.code, self.options.stall_after_s)
        reader = CameraReader(
            camera_id if stream == MAIN else f"{camera_id}/{stream}",
            self._source_factory(place, stream),
            fanout,
            health,
            self.options,
            on_state=self._state_listener(camera_id, place.centre.code, health, stream),
        )
        return StreamPipe(stream, fanout, health, reader)

    def _add(self, place: CameraPlace) -> None:
        """Build one camera's streams (fan-out, health, reader each) and keyframe worker; start them if running."""
        camera_id = place.camera.id
        names = (MAIN, SUB) if place.camera.has_sub_stream else (MAIN,)
        pipes = {name: self._pipe(place, name) for name in names}
        self.places[camera_id] = place
        self.streams[camera_id] = pipes
        self.stream_fanouts[camera_id] = {name: pipe.fanout for name, pipe in pipes.items()}
        self.fanouts[camera_id] = pipes[place.camera.stream_for("record")].fanout
        self.healths[camera_id] = pipes[MAIN].health
        self.readers[camera_id] = pipes[MAIN].reader
        self.alarms.setdefault(camera_id, [])
        if self._with_keyframes:
            self.keyframe_workers[camera_id] = self._keyframe_worker(camera_id, place)
        for follower in list(self._followers):
            self._tell(follower.camera_added, camera_id, self.fanouts[camera_id])
        if not self._started:
            return  # start() starts it with the others
        worker = self.keyframe_workers.get(camera_id)
        if worker is not None:
            worker.start()
        for pipe in pipes.values():
            pipe.reader.start()

    def _remove(self, camera_id: str, timeout: float) -> list[CameraReader]:
        """Stop one camera's worker and tell the followers; returns its readers, for the caller to stop
        (after adding its replacement, if any: a reader stops within milliseconds and must find
        itself replaced, or it announces that the camera stopped) and join."""
        self.readers.pop(camera_id)
        pipes = self.streams.pop(camera_id)
        self.stream_fanouts.pop(camera_id)
        worker = self.keyframe_workers.pop(camera_id, None)
        place = self.places.pop(camera_id)
        self.healths.pop(camera_id)
        self.fanouts.pop(camera_id)
        for name, pipe in pipes.items():
            self._retired_fanouts[(camera_id, name)] = pipe.fanout
        if worker is not None:
            worker.stop(timeout=timeout)
        for follower in list(self._followers):
            self._tell(follower.camera_removed, camera_id)
        self._close_video_loss(camera_id, place.centre.code)
        return [pipe.reader for pipe in pipes.values()]

    @staticmethod
    def _tell(method: Callable, *args) -> None:
        try:
            method(*args)
        except Exception:  # one recorder that cannot start must not keep the camera from the wall
            log.exception("ingest follower %r failed for %s", method, args[0])

    def follow(self, follower: IngestFollower) -> None:
        """Tell ``follower`` from now on about cameras added and removed while running."""
        with self._lock:
            self._followers.append(follower)

    def pull_only(self, camera_ids: Iterable[str] | None) -> None:
        """From the next :meth:`sync` on, pull only these cameras (None: every enabled camera)."""
        with self._lock:
            self._wanted_ids = set(camera_ids) if camera_ids is not None else None

    def sync(self, site: Site, timeout: float = 5.0) -> PullChanges:
        """Pull exactly the enabled cameras of ``site``: start the new, stop the gone, restart the changed.

        A camera whose configuration (address, credentials, profile, centre) changed gets a new
        reader on the same fan-out, so live viewers carry on. A change of name or room only
        updates its place. Old readers are waited for up to ``timeout`` (one blocked in FFmpeg
        publishes nothing more and leaves by itself). Before :meth:`start` only the plan
        changes; after :meth:`stop` nothing is done.
        """
        deadline = time.monotonic() + timeout
        wanted = self._wanted(site)
        added, removed, restarted = [], [], []
        stopping: dict[str, list[CameraReader]] = {}
        with self._lock:
            if self._stop.is_set():
                return PullChanges()
            for camera_id in [c for c in self.places if c not in wanted]:
                stopping[camera_id] = self._remove(camera_id, timeout=1.0)
                for reader in stopping[camera_id]:
                    reader.request_stop()  # from here on it publishes nothing
                removed.append(camera_id)
            for camera_id, place in wanted.items():
                old = self.places.get(camera_id)
                if old is None:
                    self._add(place)
                    added.append(camera_id)
                elif _how_pulled(old) != _how_pulled(place):
                    stopping[camera_id] = self._remove(camera_id, timeout=1.0)
                    self._add(place)
                    for reader in stopping[camera_id]:
                        reader.request_stop()
                    restarted.append(camera_id)
                elif old != place:
                    self.places[camera_id] = place
        for camera_id, readers in stopping.items():
            for reader in readers:
                if not reader.join(max(0.0, deadline - time.monotonic())):
                    log.warning("camera %s: old reader still in an FFmpeg call, leaving by itself", camera_id)
        changes = PullChanges(tuple(added), tuple(removed), tuple(restarted))
        if changes:
            log.info(
                "cameras to pull: added %s; removed %s; restarted %s",
                ", ".join(added) or "-",
                ", ".join(removed) or "-",
                ", ".join(restarted) or "-",
            )
        return changes

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            self._started = True
            for worker in self.keyframe_workers.values():
                worker.start()
            for reader in self._all_readers().values():
                reader.start()
        self._watchdog = threading.Thread(target=self._watch, name="ingest-watchdog", daemon=True)
        self._watchdog.start()

    def stop(self, timeout: float = 3.0) -> bool:
        """Stop everything within ``timeout``; False if a reader is still blocked in a read.

        A reader blocked in FFmpeg publishes nothing more and leaves by itself within the read timeout.
        """
        deadline = time.monotonic() + timeout
        self._stop.set()
        with self._lock:  # a sync in progress finishes first; none starts after this
            readers = self._all_readers()
            workers = list(self.keyframe_workers.values())
        for reader in readers.values():
            reader.request_stop()
        for worker in workers:
            worker.stop(timeout=max(0.1, deadline - time.monotonic()))
        blocked = [
            camera_id
            for camera_id, reader in readers.items()
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

    def _all_readers(self) -> dict[str, CameraReader]:
        """Every stream's reader, by its label (``cam`` for a main stream, ``cam/sub``)."""
        return {
            pipe.reader.camera_id: pipe.reader
            for pipes in list(self.streams.values())
            for pipe in pipes.values()
        }

    def _watch(self) -> None:
        while not self._stop.wait(WATCHDOG_TICK_S):
            now = time.monotonic()
            for pipes in list(self.streams.values()):
                for pipe in list(pipes.values()):
                    if not pipe.refused:
                        pipe.reader.check_watchdog(now)
                self._check_sub_size(pipes)

    def _check_sub_size(self, pipes: dict[str, StreamPipe]) -> None:
        """A sub stream whose picture turns out larger than the main one's is refused and stopped
        (the site file has the two the wrong way round); the tiles then fall back to the main stream."""
        sub = pipes.get(SUB)
        if sub is None or sub.refused:
            return
        why = sub_larger_than_main(pipes[MAIN].health.stream, sub.health.stream)
        if why is None:
            return
        sub.refused = why
        sub.reader.request_stop()
        camera_id = pipes[MAIN].health.camera_id
        log.warning("camera %s: %s", camera_id, why)
        place = self.places.get(camera_id)
        centre = place.centre.code if place else None
        self.sink.emit(
            STREAM_EVENT,
            {"camera_id": camera_id, "centre": centre, "stream": SUB, "state": ERROR, "error_kind": "refused",
             "at": optional_utc_iso(time.time()), "detail": why},
            room=centre,
        )  # fmt: skip

    # --- events --------------------------------------------------------------------------------

    def _state_listener(
        self, camera_id: str, centre: str, health: CameraHealth, stream: str = MAIN
    ) -> Callable:
        """The reader's state listener. A reader that was replaced or removed speaks no more,
        except to say it stopped when nothing took its place."""

        def on_state(_camera_id: str, state: str, error_kind: str | None, detail: str | None) -> None:
            pipe = self.streams.get(camera_id, {}).get(stream)
            current = pipe is not None and pipe.health is health
            if not current and (state != STOPPED or camera_id in self.healths):
                return
            if stream != MAIN:
                if pipe is None or not pipe.refused:
                    payload = {"camera_id": camera_id, "centre": centre, "stream": stream, "state": state,
                               "error_kind": error_kind, "at": optional_utc_iso(time.time()), "detail": detail}  # fmt: skip
                    self.sink.emit(STREAM_EVENT, payload, room=centre)
                return
            self._on_state(camera_id, centre, health, state, error_kind, detail, track_alarms=current)

        return on_state

    def _on_state(
        self,
        camera_id: str,
        centre: str,
        health: CameraHealth,
        state: str,
        error_kind: str | None,
        detail: str | None,
        track_alarms: bool = True,
    ) -> None:
        now = time.time()
        payload = {
            "camera_id": camera_id,
            "centre": centre,
            "state": state,
            "error_kind": error_kind,
            "at": optional_utc_iso(now),
            "detail": detail,
        }
        self.sink.emit(STATUS_EVENT, payload, room=centre)
        if track_alarms:
            self._track_video_loss(camera_id, centre, health, state, now)

    def _track_video_loss(
        self, camera_id: str, centre: str, health: CameraHealth, state: str, now: float
    ) -> None:
        """One alarm entry per loss: raised when a camera that had video loses it, closed on its return."""
        with self._alarm_lock:
            alarm = self._open_alarms.get(camera_id)
            if state == ONLINE and alarm is not None:
                del self._open_alarms[camera_id]
                alarm.update(active=False, end=optional_utc_iso(now))
            elif state in (STALLED, OFFLINE, ERROR) and alarm is None and health.packets > 0:
                alarm = {
                    "camera_id": camera_id,
                    "centre": centre,
                    "kind": VIDEO_LOSS,
                    "active": True,
                    "start": optional_utc_iso(health.last_wallclock),
                    "end": None,
                    "detail": {"state": state},
                }
                self._open_alarms[camera_id] = alarm
                log_of_camera = self.alarms.setdefault(camera_id, [])
                log_of_camera.append(alarm)
                del log_of_camera[:-ALARM_LOG_LENGTH]
            else:
                return
            payload = dict(alarm)
        self.sink.emit(ALARM_EVENT, payload, room=centre)

    def _close_video_loss(self, camera_id: str, centre: str) -> None:
        """A camera no longer pulled has no video loss to watch: its open alarm ends now."""
        with self._alarm_lock:
            alarm = self._open_alarms.pop(camera_id, None)
            if alarm is None:
                return
            alarm.update(active=False, end=optional_utc_iso(time.time()))
            payload = dict(alarm)
        self.sink.emit(ALARM_EVENT, payload, room=centre)

    # --- reading -------------------------------------------------------------------------------

    def fanout(self, camera_id: str) -> Fanout:
        return self.fanouts[camera_id]

    def stream_fanout(self, camera_id: str, stream: str) -> Fanout:
        return self.stream_fanouts[camera_id][stream]

    def camera_health(self, camera_id: str) -> HealthSnapshot:
        """The main stream's health, with every stream summarised under ``streams``."""
        pipes = self.streams[camera_id]
        snapshots = {}
        for name, pipe in pipes.items():
            dropped = {s.name: s.dropped for s in pipe.fanout.subscribers}
            snapshots[name] = pipe.health.snapshot(dropped)
        main = snapshots[MAIN]
        main.streams = {name: stream_summary(snapshots[name], pipes[name].refused) for name in snapshots}
        main.recorder = getattr(self.recorders.get(camera_id), "state", None)
        return main

    def stream_states(self, camera_id: str) -> dict[str, tuple[str, str | None]]:
        """(state, codec) of each of the camera's streams; a refused sub stream is in error."""
        states = {}
        for name, pipe in self.streams[camera_id].items():
            stream = pipe.health.stream
            states[name] = (ERROR if pipe.refused else pipe.health.state, stream.codec if stream else None)
        return states

    def health(self) -> dict[str, HealthSnapshot]:
        """Every camera being pulled; one removed meanwhile is left out."""
        snapshots = {}
        for camera_id in list(self.places):
            try:
                snapshots[camera_id] = self.camera_health(camera_id)
            except KeyError:
                continue
        return snapshots

    def alarm_log(self, camera_id: str) -> list[dict]:
        """Video-loss alarms of the camera, then the keyframe worker's (tamper, frozen, dark ...).

        An alarm is one entry: ``active`` until it is cleared, then with its ``end``.
        """
        with self._alarm_lock:
            alarms = [dict(alarm) for alarm in self.alarms.get(camera_id, ())]
        worker = self.keyframe_workers.get(camera_id)
        if worker is not None:
            alarms += worker.alarm_log
        return alarms
