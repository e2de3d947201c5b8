"""A running ingest follows a changing camera list (IngestService.sync) against the real GStreamer RTSP server.

Readers, keyframe workers, recorders and live channels start and stop with their camera;
a replaced or removed reader speaks no more; a dead address is an offline camera, not a crash.
"""

from __future__ import annotations

import time

import pytest

from tests.support.rtsp_process import closed_port, wait_until
from tests.video.sites import make_site
from watchwall.config.database import make_engine, upgrade
from watchwall.config.settings import Settings
from watchwall.video.ingest.supervisor import STATUS_EVENT, IngestService, PullChanges
from watchwall.video.live.channel import LiveHub
from watchwall.video.record.recording_service import start_site_recording
from watchwall.video.state.events import MemorySink

pytestmark = pytest.mark.rtsp


class Journal:
    """A follower that writes down what it is told (beside the real recorders)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def camera_added(self, camera_id, fanout) -> None:
        self.events.append(("added", camera_id))

    def camera_removed(self, camera_id) -> None:
        self.events.append(("removed", camera_id))


@pytest.fixture
def engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'watchwall.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def packets_of(service: IngestService, camera_id: str) -> int:
    health = service.healths.get(camera_id)
    return health.packets if health is not None else -1


def test_cameras_added_removed_and_restarted_while_running(rtsp_server, engine, tmp_path):
    settings = Settings(data_dir=tmp_path, recording_segment_s=60)
    sink = MemorySink()
    service = IngestService(make_site({}), settings=settings, sink=sink)
    hub = LiveHub(service.fanouts)
    recording = start_site_recording(service, engine, settings, sink, retention_interval_s=None)
    journal = Journal()
    service.follow(journal)
    service.start()
    try:
        changes = service.sync(make_site({"door": {"rtsp": rtsp_server.url("/cam0")}}))
        assert changes.added == ("door",) and not changes.removed and not changes.restarted
        wait_until(lambda: packets_of(service, "door") > 30, 20, what="packets of the added camera")
        assert service.healths["door"].state == "online"
        assert service.keyframe_workers["door"].running
        wait_until(lambda: recording.recorders["door"].packets_written > 0, 15, what="the recorder writing")
        assert service.recorders["door"] is recording.recorders["door"]

        viewer = hub.channel("door").attach()  # the live channel of a camera added while running
        try:
            wait_until(lambda: viewer.get(0.5) is not None, 15, what="live fMP4 of the added camera")
        finally:
            viewer.close()

        # Same camera, other address: a new reader on the same fan-out; the old one is silent.
        first_reader, fanout = service.readers["door"], service.fanouts["door"]
        changes = service.sync(make_site({"door": {"rtsp": rtsp_server.url("/cam1")}}))
        assert changes.restarted == ("door",)
        assert first_reader.join(timeout=0) and service.readers["door"] is not first_reader
        assert service.fanouts["door"] is fanout
        wait_until(lambda: packets_of(service, "door") > 10, 20, what="packets from the new address")
        door_states = [p["state"] for p in sink.payloads(STATUS_EVENT) if p["camera_id"] == "door"]
        assert door_states[-1] == "online" and "stopped" not in door_states

        # A renamed camera keeps its reader.
        reader = service.readers["door"]
        renamed = make_site({"door": {"rtsp": rtsp_server.url("/cam1"), "name": "front door"}})
        assert not service.sync(renamed) and service.readers["door"] is reader
        assert service.places["door"].camera.name.en == "front door"

        # A dead address beside it: offline and retrying, the other camera untouched.
        dead = f"rtsp://127.0.0.1:{closed_port()}/video_main"
        both = make_site({"door": {"rtsp": rtsp_server.url("/cam1")}, "dead": {"rtsp": dead}})
        assert service.sync(both).added == ("dead",)
        wait_until(lambda: service.healths["dead"].state == "offline", 15, what="the dead camera offline")
        assert (
            service.healths["dead"].error_kind == "unreachable" and service.readers["dead"].join(0) is False
        )
        before = packets_of(service, "door")
        wait_until(lambda: packets_of(service, "door") > before + 10, 10, what="door still flowing")

        # Disabled: its reader, worker and recorder stop; the segment is closed; nothing speaks for it.
        door_reader, door_worker = service.readers["door"], service.keyframe_workers["door"]
        door_recorder = recording.recorders["door"]
        disabled = make_site(
            {"door": {"rtsp": rtsp_server.url("/cam1"), "enabled": False}, "dead": {"rtsp": dead}}
        )
        changes = service.sync(disabled)
        assert changes.removed == ("door",)
        assert door_reader.join(timeout=0) and not door_worker.running
        assert (
            "door" not in service.health() and "door" not in service.readers and "door" not in service.fanouts
        )
        assert "door" not in recording.recorders and not door_recorder.recording
        assert door_recorder.segments_closed >= 1
        published = fanout.published
        time.sleep(1.0)
        assert fanout.published == published, "a removed camera's fan-out got packets"

        # Enabled again: the same fan-out comes back (live channels attached to it resume), a new recorder.
        assert service.sync(make_site({"door": {"rtsp": rtsp_server.url("/cam0")}})).added == ("door",)
        assert service.fanouts["door"] is fanout and hub.channel("door").fanout is fanout
        wait_until(lambda: fanout.published > published + 10, 20, what="packets after enabling again")
        assert recording.recorders["door"] is not door_recorder
        assert journal.events == [
            ("added", "door"),
            ("removed", "door"),
            ("added", "door"),
            ("added", "dead"),
            ("removed", "door"),
            ("removed", "dead"),
            ("added", "door"),
        ]
    finally:
        hub.stop()
        assert service.stop(timeout=10), "readers did not stop"
        recording.stop(timeout=10)
    assert service.sync(make_site({"late": {"rtsp": rtsp_server.url("/cam0")}})) == PullChanges()
    assert "late" not in service.readers


def test_sync_before_start_only_plans(rtsp_server, tmp_path):
    service = IngestService(make_site({}), settings=Settings(data_dir=tmp_path), keyframes=False)
    service.sync(make_site({"door": {"rtsp": rtsp_server.url("/cam0")}}))
    assert service.readers["door"].join(timeout=0)  # not started
    service.start()
    try:
        wait_until(lambda: packets_of(service, "door") > 5, 20, what="packets once started")
    finally:
        assert service.stop(timeout=10)
