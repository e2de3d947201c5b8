"""One camera pulled, watched live and recorded, as `watchwall serve` would: for the interop tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.config.settings import Settings
from watchwall.config.site import Site
from watchwall.video.ingest.supervisor import IngestService
from watchwall.video.live.channel import LiveChannel
from watchwall.video.record.models import RecordingGap, RecordingSegment
from watchwall.video.record.recording_service import start_site_recording

CAMERA = "door"


def one_camera_site(camera: dict) -> Site:
    rooms = [{"code": "checkin", "name": "报到登记室", "cameras": [{"id": CAMERA, "name": CAMERA, **camera}]}]
    return Site.model_validate(
        {"centres": [{"code": "gangu", "name": "甘谷县", "level": "county", "rooms": rooms}]}
    )


@dataclass
class LiveWatcher:
    """A viewer of the camera's live channel, collecting what a browser would be sent."""

    channel: LiveChannel
    messages: list[tuple[str, object]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> LiveWatcher:
        viewer = self.channel.attach()

        def run() -> None:
            while not self._stop.is_set():
                message = viewer.get(0.2)
                if message is not None:
                    self.messages.append(message)
            viewer.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.channel.stop()

    def stream(self) -> bytes:
        """The init segment and the fragments after it, as one fMP4 byte stream."""
        data = b""
        for kind, payload in self.messages:
            if kind == "init":
                data = payload[1]
            elif kind == "fragment" and data:
                data += payload
        return data


@dataclass
class Run:
    service: IngestService
    engine: object
    recordings_dir: Path
    watcher: LiveWatcher | None = None

    def segments(self) -> list[RecordingSegment]:
        with session_scope(self.engine) as session:
            return list(session.scalars(select(RecordingSegment).order_by(RecordingSegment.start_utc)))

    def gaps(self) -> list[RecordingGap]:
        with session_scope(self.engine) as session:
            return list(session.scalars(select(RecordingGap).order_by(RecordingGap.start_utc)))


@contextmanager
def recorded(
    camera: dict, tmp_path: Path, segment_s: float = 2.0, live: bool = False, keyframes: bool = False
) -> Iterator[Run]:
    """Pull, record (with ``live`` watch, with ``keyframes`` make thumbnails) one camera; the
    recording is closed on leaving."""
    settings = Settings(data_dir=tmp_path, recording_segment_s=segment_s)
    url = f"sqlite:///{tmp_path / 'watchwall.db'}"
    upgrade(url)
    engine = make_engine(url)
    service = IngestService(one_camera_site(camera), settings=settings, keyframes=keyframes)
    recording = start_site_recording(service, engine, settings, retention_interval_s=None)
    watcher = LiveWatcher(LiveChannel(CAMERA, service.fanout(CAMERA), max_backlog=10_000)) if live else None
    run = Run(service, engine, tmp_path / "recordings", watcher)
    try:
        if watcher is not None:
            watcher.start()
        service.start()
        yield run
    finally:
        if watcher is not None:
            watcher.stop()
        service.stop()
        recording.stop()
        time.sleep(0.1)
        engine.dispose()
