"""Files and demo clips go through the reader's one code path, paced in real time and looped."""

from __future__ import annotations

import time
from fractions import Fraction

import av
import numpy as np
import pytest

from tests.support.rtsp_process import wait_until
from watchwall.config.settings import Settings
from watchwall.config.site import Site
from watchwall.video.ingest.supervisor import IngestService
from watchwall.video.state.events import MemorySink


def make_site(cameras: dict[str, dict]) -> Site:
    rooms = [
        {
            "code": "education",
            "name": "教育学习室",
            "cameras": [{"id": i, "name": i, **c} for i, c in cameras.items()],
        }
    ]
    return Site.model_validate(
        {"centres": [{"code": "maiji", "name": "麦积区", "level": "county", "rooms": rooms}]}
    )


def write_h264_file(path, seconds: int = 2, fps: int = 10, gop: int = 10) -> None:
    """A small MP4 (avcC, length-prefixed NAL units) made with PyAV's bundled libx264."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(
            "libx264", rate=fps, options={"g": str(gop), "bf": "0", "preset": "ultrafast"}
        )
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for index in range(seconds * fps):
            image = np.full((96, 160, 3), (index * 7) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "two-seconds.mp4"
    write_h264_file(path)
    return path


def test_file_is_paced_in_real_time_and_looped_with_increasing_timestamps(clip, tmp_path):
    service = IngestService(
        make_site({"file": {"file": str(clip)}}), settings=Settings(data_dir=tmp_path), keyframes=False
    )
    subscription = service.fanout("file").subscribe("test", maxsize=1000)
    service.start()
    try:
        wait_until(lambda: service.healths["file"].state == "online", 10)
        started, packets_then = time.monotonic(), service.healths["file"].packets
        time.sleep(3.0)  # longer than the clip: it must loop
        elapsed, packets = time.monotonic() - started, service.healths["file"].packets - packets_then
        health = service.camera_health("file")
    finally:
        assert service.stop(timeout=5)
    received = []
    while (packet := subscription.get(timeout=0)) is not None:
        received.append(packet)

    assert packets == pytest.approx(10 * elapsed, rel=0.25)  # 10 fps, not as fast as the disk
    assert health.fps == pytest.approx(10, abs=1.5)
    assert health.keyframe_interval_s == pytest.approx(1.0, abs=0.05)
    assert health.keyframe_interval_frames == 10
    assert health.malformed_packets == 0 and health.gaps == [] and health.attempts == 1
    dts = [p.dts for p in received]
    assert len(received) >= 25, len(received)  # more than the clip: it looped
    assert dts == sorted(set(dts)), f"timestamps must keep increasing across the loop: {dts}"
    assert [p.sequence for p in received] == list(range(len(received)))
    spacing = np.diff([p.wallclock for p in received])
    assert spacing.max() < 0.5 and spacing.min() > 0  # dated by timestamps, also across the loop


def test_demo_camera_is_ingested_with_thumbnails(tmp_path):
    demo = {
        "pattern": "counter",
        "width": 320,
        "height": 180,
        "fps": 10,
        "seconds": 2,
        "gop": 10,
        "clock": False,
    }
    site = make_site({"demo": {"demo": demo}, "other": {"demo": {**demo, "pattern": "bars"}}})
    sink = MemorySink()
    settings = Settings(data_dir=tmp_path, thumbnail_interval_s=1.0)
    with IngestService(site, settings=settings, sink=sink) as service:
        wait_until(lambda: service.keyframe_workers["demo"].thumbnails >= 2, 30, what="two thumbnails")
        health = service.camera_health("demo")
    assert health.state == "online" and health.codec == "h264" and (health.width, health.height) == (320, 180)
    assert health.dropped.get("keyframes") is not None
    assert service.keyframe_workers["demo"].latest_jpeg.startswith(b"\xff\xd8")
    assert list((tmp_path / "demo").glob("demo-*.mp4")), "the clip is cached in the data dir"


def test_camera_settings_that_cannot_work_are_config_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("WATCHWALL_TEST_UNSET_PASSWORD", raising=False)
    credentials = {"username": "admin", "password_env": "WATCHWALL_TEST_UNSET_PASSWORD"}
    site = make_site(
        {
            "nofile": {"file": str(tmp_path / "missing.mp4")},
            "nopassword": {"rtsp": "rtsp://127.0.0.1:9/x", "credentials": credentials},
        }
    )
    with IngestService(site, settings=Settings(data_dir=tmp_path), keyframes=False) as service:
        wait_until(lambda: all(h.state == "error" for h in service.healths.values()), 10)
        nofile, nopassword = service.camera_health("nofile"), service.camera_health("nopassword")
    assert nofile.error_kind == "config" and "missing.mp4" in nofile.detail
    assert nopassword.error_kind == "config" and "WATCHWALL_TEST_UNSET_PASSWORD" in nopassword.detail
