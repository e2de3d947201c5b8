"""Recording of a whole site: one recorder per ingested camera, and a retention loop beside them.

Cameras the ingest adds or removes while running (the inventory) get or lose their recorder.

What ``watchwall serve`` and ``watchwall ingest`` start once. The recorders
subscribe to the ingest's fan-outs; the retention loop applies the settings'
policy (age in days, a free-disk floor) every ``retention_interval_s`` and
trims the playback cache. Stop it after the ingest, so that the packets
already published are still written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from watchwall.config.retention_setting import current_days
from watchwall.video.record.fence import RecordingFence
from watchwall.video.record.playback import prune_playback_cache
from watchwall.video.record.recorder import DISK_FULL_EVENT, Recorder, start_recording
from watchwall.video.record.retention import RetentionPolicy, RetentionReport, apply_retention
from watchwall.video.record.segments import default_recordings_dir
from watchwall.video.state.events import Event

log = logging.getLogger(__name__)

RETENTION_EVENT = Event.RETENTION_SHORT
DEFAULT_RETENTION_INTERVAL_S = 600.0
GB = 1_000_000_000


def retention_policy(settings, days: int | None = None) -> RetentionPolicy:
    """The settings' policy; ``days`` instead of ``settings.retention_days`` when given."""
    floor = settings.retention_min_free_gb
    return RetentionPolicy(
        default_days=float(settings.retention_days if days is None else days),
        min_free_bytes=None if floor is None else int(floor * GB),
    )


def default_playback_cache_dir(settings) -> Path:
    return Path(settings.data_dir) / "cache" / "playback"


class RetentionLoop:
    """Runs retention at start and then every ``interval_s``; one failed pass is logged, not fatal."""

    def __init__(
        self,
        engine: Engine,
        recordings_dir: Path,
        policy: RetentionPolicy,
        *,
        interval_s: float,
        playback_cache_dir: Path | None = None,
        audit: Callable[..., object] | None = None,
        sink=None,
        node: str | None = None,
        policy_source: Callable[[], RetentionPolicy] | None = None,
    ) -> None:
        self.engine = engine
        self.policy_source = policy_source  # asked before every pass: a changed setting needs no restart
        self.node = node
        self.recordings_dir = Path(recordings_dir)
        self.policy = policy
        self.interval_s = interval_s
        self.playback_cache_dir = playback_cache_dir
        self.audit = audit
        self.sink = sink
        self.passes = 0
        self.deleted = 0
        self.last_error: str | None = None
        self._locked_alarmed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recording-retention", daemon=True)

    def start(self) -> RetentionLoop:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """A pass in progress finishes its current deletion; the loop then ends."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("retention pass still running after %.1f s; it ends by itself", timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval_s)

    def run_once(self) -> RetentionReport | None:
        try:
            if self.policy_source is not None:
                self.policy = self.policy_source()
            report = apply_retention(
                self.engine, self.recordings_dir, self.policy, audit=self.audit, node=self.node
            )
            if self.playback_cache_dir is not None:
                prune_playback_cache(self.playback_cache_dir)
        except Exception as exc:  # the database or disk is away: the next pass retries
            log.exception("retention pass failed")
            self.last_error = str(exc)
            return None
        self.passes += 1
        self.deleted += len(report.deleted)
        self.last_error = None
        if report.still_needed_bytes and self.sink is not None:
            try:
                self.sink.emit(RETENTION_EVENT, {"still_needed_bytes": report.still_needed_bytes})
            except Exception:
                log.exception("cannot emit %s", RETENTION_EVENT)
        self._alarm_locked_disk(report)
        return report

    def _alarm_locked_disk(self, report: RetentionReport) -> None:
        """The disk fills with locked video: the disk-full alarm, once until the floor is met again."""
        if not (report.still_needed_bytes and report.locked_bytes):
            self._locked_alarmed = False
            return
        log.error(
            "retention: disk floor not met, %d bytes held by evidence locks %s; nothing locked is deleted",
            report.locked_bytes,
            list(report.lock_ids),
        )
        if self.sink is None or self._locked_alarmed:
            return
        self._locked_alarmed = True
        payload = {
            "source": "retention",
            "reason": "locked",
            "still_needed_bytes": report.still_needed_bytes,
            "locked_bytes": report.locked_bytes,
            "lock_ids": list(report.lock_ids),
            "path": str(self.recordings_dir),
            "node": self.node,
        }
        try:
            self.sink.emit(DISK_FULL_EVENT, payload)
        except Exception:
            log.exception("cannot emit %s", DISK_FULL_EVENT)


class RecordingService:
    """The recorders of the cameras being pulled, and the retention loop.

    It follows the ingest (:meth:`watchwall.video.ingest.supervisor.IngestService.follow`): a camera added
    while running gets a recorder, a camera removed has its open segment closed (its
    recordings stay, and retention treats them like any other).
    """

    def __init__(
        self,
        recorders: list[Recorder],
        retention: RetentionLoop | None,
        recordings_dir: Path,
        *,
        engine: Engine | None = None,
        segment_seconds: float = 60,
        sink=None,
        recorders_by_camera: dict[str, Recorder] | None = None,
        fence_for: Callable[[str], RecordingFence | None] | None = None,
    ):
        """``recorders_by_camera``: the dict to keep them in (the ingest's), so both see the same."""
        self.recorders = recorders_by_camera if recorders_by_camera is not None else {}
        self.recorders.update({recorder.camera_id: recorder for recorder in recorders})
        self.retention = retention
        self.recordings_dir = recordings_dir
        self.engine = engine
        self.segment_seconds = segment_seconds
        self.sink = sink
        self.fence_for = fence_for  # an ingest node's lease fence per camera (None: unfenced)
        self._lock = threading.Lock()
        self._stopped = False

    def camera_added(self, camera_id: str, fanout) -> None:
        if self.engine is None:
            raise RuntimeError("a recording service without its engine cannot add recorders")
        with self._lock:
            if self._stopped or camera_id in self.recorders:
                return
            self.recorders[camera_id] = Recorder(
                camera_id,
                fanout,
                self.engine,
                self.recordings_dir,
                segment_seconds=self.segment_seconds,
                sink=self.sink,
                fence=self.fence_for(camera_id) if self.fence_for is not None else None,
            ).start()

    def camera_removed(self, camera_id: str, timeout: float = 5.0) -> None:
        """Close the camera's open segment into the index and stop its recorder."""
        with self._lock:
            recorder = self.recorders.pop(camera_id, None)
        if recorder is not None:
            recorder.stop(timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Close every open segment into the index (after the ingest has stopped), then the retention loop."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._stopped = True
            recorders = list(self.recorders.values())
        for recorder in recorders:
            recorder.stop(timeout=max(0.5, deadline - time.monotonic()))
        if self.retention is not None:
            self.retention.stop(timeout=max(0.5, deadline - time.monotonic()))

    def figures(self) -> dict[str, dict]:
        """Per camera: segments closed, packets and bytes written, packets dropped, write errors."""
        with self._lock:
            recorders = dict(self.recorders)
        return {
            camera_id: {
                "recording": recorder.recording,
                "segments": recorder.segments_closed,
                "packets": recorder.packets_written,
                "bytes": recorder.bytes_written,
                "dropped": recorder.dropped,
                "errors": recorder.errors,
            }
            for camera_id, recorder in recorders.items()
        }


def start_site_recording(
    ingest,
    engine: Engine,
    settings,
    sink=None,
    *,
    audit: Callable[..., object] | None = None,
    retention_interval_s: float | None = DEFAULT_RETENTION_INTERVAL_S,
    playback_cache_dir: Path | None = None,
    node: str | None = None,
    fence_for: Callable[[str], RecordingFence | None] | None = None,
) -> RecordingService:
    """Record every camera of ``ingest`` (an IngestService) into ``<data_dir>/recordings``.

    ``engine``'s database must be migrated (``watchwall.config.database.upgrade``). Call it
    before ``ingest.start()`` so that recording begins with the first packet.
    Recovery of segments left open by a crash runs first. ``retention_interval_s=None``
    runs no retention loop. The recorders are kept in ``ingest.recorders`` (the same dict
    as the service's), and follow the cameras the ingest adds and removes while running.
    """
    recordings_dir = default_recordings_dir(settings)
    recordings_dir.mkdir(parents=True, exist_ok=True)
    recorders = start_recording(
        ingest.fanouts,
        engine,
        recordings_dir,
        segment_seconds=settings.recording_segment_s,
        sink=sink,
        node=node,
    )
    retention = None
    if retention_interval_s is not None:
        retention = RetentionLoop(
            engine,
            recordings_dir,
            retention_policy(settings),
            interval_s=retention_interval_s,
            playback_cache_dir=playback_cache_dir or default_playback_cache_dir(settings),
            audit=audit,
            sink=sink,
            node=node,
            policy_source=lambda: retention_policy(settings, current_days(settings)),
        ).start()
    recorders_of_ingest = getattr(ingest, "recorders", None)
    service = RecordingService(
        recorders,
        retention,
        recordings_dir,
        engine=engine,
        segment_seconds=settings.recording_segment_s,
        sink=sink,
        recorders_by_camera=recorders_of_ingest if isinstance(recorders_of_ingest, dict) else None,
        fence_for=fence_for,
    )
    if hasattr(ingest, "follow"):
        ingest.follow(service)  # cameras added or removed while running are recorded, or closed
    return service
