"""A camera added by ONVIF gets both of its profiles as its main and sub streams (the real ipycam
camera, which offers a main profile and a half-size sub profile); a camera with one profile, or
two profiles on one stream URI, works with one stream."""

from __future__ import annotations

import pytest

from tests.cameras.test_inventory_ingest import engine, site_file  # noqa: F401  (engine is a fixture)
from tests.cameras.test_inventory_pull_list import row
from tests.support.rtsp_process import wait_until
from watchwall.cameras.inventory import NewCamera, add_camera
from watchwall.cameras.inventory_watch import pull_list_now, watch_inventory
from watchwall.cameras.pull_list import camera_of_row
from watchwall.config.settings import Settings
from watchwall.video.ingest.supervisor import IngestService
from watchwall.video.state.events import MemorySink


def test_an_onvif_camera_with_two_profiles_is_pulled_on_both(open_camera, engine, tmp_path):  # noqa: F811
    settings = Settings(data_dir=tmp_path, thumbnail_interval_s=60)
    stamp, site = pull_list_now(site_file(), engine)
    service = IngestService(site, settings=settings, sink=MemorySink())
    service.start()
    watcher = watch_inventory(engine, site_file(), service, applied=stamp, interval_s=0.3)
    try:
        stored, _ = add_camera(
            engine,
            NewCamera("qz-two", "qinzhou", "checkin", "门口", open_camera.host, open_camera.onvif_port),
            timeout=10,
            site=site_file(),
        )
        assert stored.main_stream_uri != stored.sub_stream_uri and stored.sub_stream_uri
        wait_until(lambda: "qz-two" in service.streams, 15, what="the camera pulled")
        assert set(service.streams["qz-two"]) == {"main", "sub"}

        def streams():
            return service.camera_health("qz-two").streams

        wait_until(
            lambda: all(s["state"] == "online" and s["packets"] > 5 for s in streams().values()),
            60,
            what="both profiles online",
        )
        main, sub = streams()["main"], streams()["sub"]
        assert (
            sub["width"] * 2 == main["width"] and sub["height"] * 2 == main["height"]
        )  # ipycam's sub is half size
        assert service.keyframe_workers["qz-two"].fanout is service.streams["qz-two"]["sub"].fanout
    finally:
        assert watcher.stop(timeout=10)
        assert service.stop(timeout=10)


@pytest.mark.parametrize(
    "sub_uri", [None, "rtsp://127.0.0.1:8554/video_main", "rtsp://127.0.0.1:8554/video_main/"], ids=str
)
def test_one_profile_or_one_stream_uri_is_one_stream(sub_uri):
    camera = camera_of_row(row("qz-one", sub_stream_uri=sub_uri))
    assert camera.rtsp == "rtsp://127.0.0.1:8554/video_main"
    assert camera.sub_rtsp is None and not camera.has_sub_stream
    assert {camera.stream_for(role) for role in ("record", "live", "tiles", "thumbnails")} == {"main"}
