"""A running ingest pulls what is added to the inventory: the real ipycam camera over ONVIF and RTSP, real PostgreSQL.

Added -> online, packets flow, recorded, listed under its centre and room; a dead
address -> offline, nothing else hurt; moved to a live address -> reconnects there;
disabled -> its reader stops, its segment is closed, it stays listed (recordings stay).
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from tests.support.rtsp_process import closed_port, wait_until
from watchwall.cameras.inventory import NewCamera, add_camera, move_camera, set_enabled
from watchwall.cameras.inventory_watch import pull_list_now, watch_inventory
from watchwall.cameras.models import InventoryCamera
from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.config.settings import Settings
from watchwall.config.site import Site
from watchwall.video.ingest.supervisor import STATUS_EVENT, IngestService
from watchwall.video.record.models import SEGMENT_CLOSED, RecordingSegment
from watchwall.video.record.recording_service import start_site_recording
from watchwall.video.state.events import MemorySink

POLL_S = 0.3


def site_file() -> Site:
    rooms = [{"code": "checkin", "name": {"zh": "报到登记室", "en": "Check-in room"}}]
    return Site.model_validate(
        {"centres": [{"code": "qinzhou", "name": "秦州区", "level": "county", "rooms": rooms}]}
    )


@pytest.fixture
def engine(scratch_database_url):
    upgrade(scratch_database_url)
    engine = make_engine(scratch_database_url)
    yield engine
    engine.dispose()


def health_of(service: IngestService, camera_id: str):
    return service.healths.get(camera_id)


def state_of(service: IngestService, camera_id: str) -> str | None:
    health = health_of(service, camera_id)
    return health.state if health is not None else None


def test_inventory_cameras_are_pulled_recorded_listed_and_dropped(open_camera, engine, tmp_path):
    settings = Settings(data_dir=tmp_path, recording_segment_s=60, thumbnail_interval_s=60)
    sink = MemorySink()
    shown: dict[str, Site] = {}
    stamp, site = pull_list_now(site_file(), engine)
    service = IngestService(site, settings=settings, sink=sink)
    recording = start_site_recording(service, engine, settings, sink, retention_interval_s=None)
    service.start()
    watcher = watch_inventory(
        engine, site_file(), service, on_site=lambda s: shown.update(site=s), applied=stamp, interval_s=POLL_S
    )
    try:
        assert service.places == {}
        row, _ = add_camera(
            engine,
            NewCamera("qz-door", "qinzhou", "checkin", "门口", open_camera.host, open_camera.onvif_port),
            timeout=10,
            site=site_file(),
        )
        wait_until(lambda: state_of(service, "qz-door") == "online", 30, what="the added camera online")
        wait_until(lambda: health_of(service, "qz-door").keyframes >= 2, 30, what="packets flowing")
        wait_until(lambda: recording.recorders["qz-door"].packets_written > 0, 15, what="recording")
        place = shown["site"].camera("qz-door")
        assert (place.centre.code, place.room.code, place.room.name.en) == (
            "qinzhou",
            "checkin",
            "Check-in room",
        )
        assert place.camera.rtsp == row.main_stream_uri

        # An inventory camera whose RTSP address is dead: offline, retried, and the other one unhurt.
        dead_port = closed_port()
        with session_scope(engine) as session:
            session.add(
                InventoryCamera(
                    id="qz-dead",
                    centre="qinzhou",
                    room="checkin",
                    name="dead",
                    onvif_host="127.0.0.1",
                    onvif_port=dead_port,
                    main_stream_uri=f"rtsp://127.0.0.1:{dead_port}/video_main",
                    enabled=True,
                )
            )
        wait_until(lambda: state_of(service, "qz-dead") == "offline", 30, what="the dead camera offline")
        assert health_of(service, "qz-dead").error_kind == "unreachable"
        packets = health_of(service, "qz-door").packets
        wait_until(
            lambda: health_of(service, "qz-door").packets > packets + 10, 15, what="door still flowing"
        )

        # Its address edited to a live camera: the reader reconnects to the new one.
        dead_reader = service.readers["qz-dead"]
        move_camera(engine, "qz-dead", host=open_camera.host, port=open_camera.onvif_port, timeout=10)
        wait_until(lambda: service.readers.get("qz-dead") is not dead_reader, 15, what="a new reader")
        wait_until(lambda: state_of(service, "qz-dead") == "online", 30, what="online at its new address")
        assert dead_reader.join(timeout=5)

        # Disabled: no longer pulled, its segment closed; still listed, so its recordings stay findable.
        door_reader = service.readers["qz-door"]
        set_enabled(engine, "qz-door", False)
        wait_until(lambda: "qz-door" not in service.readers, 15, what="the disabled camera dropped")
        assert door_reader.join(timeout=10) and "qz-door" not in recording.recorders
        wait_until(lambda: not shown["site"].camera("qz-door").camera.enabled, 10, what="listed as disabled")
        with session_scope(engine) as session:
            segments = session.scalars(
                select(RecordingSegment).where(RecordingSegment.camera_id == "qz-door")
            ).all()
        assert segments and all(segment.status == SEGMENT_CLOSED for segment in segments)
        door_states = [p["state"] for p in sink.payloads(STATUS_EVENT) if p["camera_id"] == "qz-door"]
        assert door_states[-1] == "stopped"
        time.sleep(2 * POLL_S)
        assert "qz-door" not in service.readers and watcher.last_error is None
    finally:
        assert watcher.stop(timeout=10)
        assert service.stop(timeout=10), "readers did not stop"
        recording.stop(timeout=10)
