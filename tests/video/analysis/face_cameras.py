"""Two real cameras recorded for the face-check tests: GStreamer's RTSP server plays a face photograph
(scikit-image's astronaut, drifting) and an empty room, WatchWall's ingest pulls and records them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from tests.support.rtsp_process import RtspServerProcess, wait_until
from tests.video.analysis.face_media import empty_room, face_scene, write_h264
from watchwall.config.database import make_engine, upgrade
from watchwall.config.settings import Settings
from watchwall.config.site import Site
from watchwall.video.analysis.face_presence import RecordingLookup, span_settled
from watchwall.video.ingest.supervisor import IngestService
from watchwall.video.record.recording_service import start_site_recording

FACE_CAMERA = "gangu-checkin-face"
ROOM_CAMERA = "gangu-checkin-room"
OTHER_COUNTY_CAMERA = "qinzhou-checkin"  # in the site, never pulled: for the other-county refusal
COUNTY = "gangu"
SEGMENT_S = 2.0
WIDTH, HEIGHT = 640, 360


def site(face_url: str, room_url: str, other_url: str | None = None) -> Site:
    cameras = [
        {"id": FACE_CAMERA, "name": "报到登记 1", "rtsp": face_url},
        {"id": ROOM_CAMERA, "name": "报到登记 2", "rtsp": room_url},
    ]
    centres = [
        {
            "code": COUNTY,
            "name": "甘谷县",
            "level": "county",
            "rooms": [{"code": "checkin", "name": "报到登记室", "cameras": cameras}],
        }
    ]
    if other_url is not None:
        other = [{"id": OTHER_COUNTY_CAMERA, "name": "报到登记", "rtsp": other_url}]
        centres.append(
            {
                "code": "qinzhou",
                "name": "秦州区",
                "level": "county",
                "rooms": [{"code": "checkin", "name": "报到登记室", "cameras": other}],
            }
        )
    return Site.model_validate({"centres": centres})


@dataclass
class RecordedCameras:
    server: RtspServerProcess
    ingest: IngestService
    recording: object
    engine: Engine
    database_url: str
    settings: Settings
    started_utc: float

    @property
    def lookup(self) -> RecordingLookup:
        return RecordingLookup.from_settings(self.engine, self.settings)

    @property
    def app_site(self) -> Site:
        return site(self.server.url("/face"), self.server.url("/room"), self.server.url("/room"))

    def wait_recorded(self, end_utc: float, timeout: float = 30.0) -> None:
        for camera in (FACE_CAMERA, ROOM_CAMERA):
            wait_until(
                lambda camera=camera: span_settled(self.lookup, camera, end_utc),
                timeout,
                interval=0.2,
                what=f"{camera} recorded up to {end_utc:.1f}",
            )

    def stop(self) -> None:
        self.ingest.stop(timeout=10)
        self.recording.stop()
        self.server.kill()
        self.engine.dispose()


def start_recorded_cameras(data_dir: Path, settings_overrides: dict | None = None) -> RecordedCameras:
    data_dir.mkdir(parents=True, exist_ok=True)
    face = write_h264(
        data_dir / "face.h264", face_scene(WIDTH, HEIGHT), seconds=7
    )  # not a multiple of the segment: no two segments alike
    room = write_h264(
        data_dir / "room.h264", empty_room(WIDTH, HEIGHT), seconds=7
    )  # not a multiple of the segment: no two segments alike
    server = RtspServerProcess({"/face": f"file:{face}", "/room": f"file:{room}"}).start()
    url = f"sqlite:///{data_dir / 'watchwall.db'}"
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(
        data_dir=data_dir, database_url=url, recording_segment_s=SEGMENT_S, **(settings_overrides or {})
    )
    ingest = IngestService(site(server.url("/face"), server.url("/room")), settings=settings)
    recording = start_site_recording(ingest, engine, settings, sink=ingest.sink, retention_interval_s=None)
    started = time.time()
    ingest.start()
    cameras = RecordedCameras(server, ingest, recording, engine, url, settings, started)
    try:
        for camera in (FACE_CAMERA, ROOM_CAMERA):
            recorder = recording.recorders[camera]
            wait_until(lambda r=recorder: r.packets_written >= 15, 30, what=f"{camera} recording")
    except BaseException:
        cameras.stop()
        raise
    return cameras
