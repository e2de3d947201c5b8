"""The media plane of one process, assembled in one place: ingest, live channels, recording.

``watchwall serve``, ``watchwall ingest`` and an ingest node all pull, record and serve live
video the same way; only what surrounds the plane differs (pages, a report, leases). The
stop order matters: live viewers first, then the readers, then the recorders, so that the
last packets the readers published are written and every open segment is closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from watchwall.audit.log import AuditLog
from watchwall.config.settings import Settings
from watchwall.config.site import Site
from watchwall.video.ingest.supervisor import IngestService
from watchwall.video.live.channel import LiveHub
from watchwall.video.record.fence import RecordingFence
from watchwall.video.record.recording_service import RecordingService, start_site_recording
from watchwall.video.state.events import EventSink

log = logging.getLogger(__name__)


@dataclass
class MediaPlane:
    ingest: IngestService
    live: LiveHub
    recording: RecordingService | None

    def start(self) -> MediaPlane:
        self.ingest.start()
        return self

    def stop(self, recorder_timeout: float = 10.0) -> None:
        self.live.stop()
        self.ingest.stop()
        if self.recording is not None:  # after the ingest: what was published is written
            self.recording.stop(timeout=recorder_timeout)


def build_media_plane(
    site: Site,
    settings: Settings,
    engine: Engine,
    sink: EventSink | None = None,
    *,
    record: bool = True,
    camera_ids: Iterable[str] | None = None,
    keyframes: bool = True,
    node: str | None = None,
    fence_for: Callable[[str], RecordingFence | None] | None = None,
) -> MediaPlane:
    """The plane for ``site``'s enabled cameras (or ``camera_ids``), not yet started.

    Recording (with crash recovery first and the retention loop) is set up before the
    readers start, so that it begins with the first packet. An ingest node of a cluster gives
    its ``node`` name (its recovery and retention keep to its own disk) and a lease fence per
    camera.
    """
    ingest = IngestService(site, settings=settings, sink=sink, camera_ids=camera_ids, keyframes=keyframes)
    recording = None
    if record:
        recording = start_site_recording(
            ingest,
            engine,
            settings,
            sink or ingest.sink,
            audit=AuditLog(engine),
            node=node,
            fence_for=fence_for,
        )
    return MediaPlane(ingest=ingest, live=LiveHub(ingest.fanouts, ingest.stream_fanouts), recording=recording)
