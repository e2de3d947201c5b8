"""A camera with an H.265 main stream and an H.264 sub stream, from a real GStreamer RTSP server
(x265enc + rtph265pay, x264enc + rtph264pay), recorded into real PostgreSQL.

The main stream is recorded (H.265 at its own size, ffprobe says so), exported and verified;
the sub stream feeds the thumbnails. Dropping the sub stream's path on the server leaves the
main stream and its recording untouched (no gap rows), the thumbnails carry on from the main
stream, and ``watchwall ingest --json`` reports both streams.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.support.rtsp_process import RtspServerProcess, wait_until
from tests.video.sites import make_site
from watchwall.config.database import make_engine, session_scope
from watchwall.config.settings import Settings
from watchwall.video.ingest.supervisor import STREAM_EVENT, IngestService
from watchwall.video.record.export import export_clip
from watchwall.video.record.models import SEGMENT_CLOSED, RecordingGap, RecordingSegment
from watchwall.video.record.recording_service import start_site_recording
from watchwall.video.record.signing import fingerprint, load_or_create_signing_key
from watchwall.video.record.verify import verify_package
from watchwall.video.state.events import MemorySink

pytestmark = pytest.mark.rtsp

MAIN_SIZE, SUB_SIZE = (640, 360), (320, 180)
MOUNTS = {"/main": f"h265@{MAIN_SIZE[0]}x{MAIN_SIZE[1]}", "/sub": f"h264@{SUB_SIZE[0]}x{SUB_SIZE[1]}"}


@pytest.fixture
def camera_server():
    """One camera: its main and sub stream on one RTSP server, as real cameras serve them."""
    server = RtspServerProcess(MOUNTS).start()
    yield server
    server.kill()


def ffprobe(path: Path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-select_streams", "v", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)["streams"][0]


def test_main_recorded_in_h265_sub_feeds_thumbnails_and_its_loss_breaks_nothing(
    camera_server, postgres_url, tmp_path
):
    settings = Settings(data_dir=tmp_path, recording_segment_s=3, thumbnail_interval_s=1)
    site = make_site({"door": {"rtsp": camera_server.url("/main"), "sub_rtsp": camera_server.url("/sub")}})
    engine = make_engine(postgres_url)
    sink = MemorySink()
    service = IngestService(site, settings=settings, sink=sink)
    recording = start_site_recording(service, engine, settings, sink, retention_interval_s=None)
    service.start()
    try:
        pipes = service.streams["door"]
        assert set(pipes) == {"main", "sub"} and service.fanouts["door"] is pipes["main"].fanout

        def streams():
            return service.camera_health("door").streams

        wait_until(
            lambda: all(s["state"] == "online" and s["packets"] > 20 for s in streams().values()),
            60,
            what="both streams online",
        )
        now = streams()
        assert (now["main"]["codec"], now["main"]["width"], now["main"]["height"]) == ("hevc", *MAIN_SIZE)
        assert (now["sub"]["codec"], now["sub"]["width"], now["sub"]["height"]) == ("h264", *SUB_SIZE)
        worker = service.keyframe_workers["door"]
        # (on a loaded machine the sub stream may come up after the fallback's wait: then the
        # main stream's keyframes stood in until it did)
        wait_until(
            lambda: (
                worker.thumbnails >= 2
                and not worker.using_fallback
                and worker._decoder.last_stream.codec == "h264"
            ),
            30,
            what="thumbnails from the sub stream",
        )

        wait_until(lambda: recording.recorders["door"].segments_closed >= 1, 30, what="a closed segment")
        main_packets_before = pipes["main"].health.packets
        camera_server.drop("/sub")
        dropped_at = time.time()
        wait_until(lambda: streams()["sub"]["state"] in ("offline", "error", "stalled"), 30, what="sub down")
        assert any(e[0] == STREAM_EVENT and e[1]["stream"] == "sub" for e in sink.events)
        # the thumbnails carry on from the main stream while the sub stream is away
        wait_until(lambda: worker.from_fallback >= 1, 30, what="thumbnails from the main stream")
        assert worker._decoder.last_stream.codec == "hevc"
        wait_until(lambda: time.time() - dropped_at > 8, 15, what="some seconds without the sub stream")
        health = service.camera_health("door")
        assert health.state == "online" and health.streams["main"]["state"] == "online"
        assert health.streams["sub"]["state"] != "online"
        assert pipes["main"].health.packets > main_packets_before + 80  # 15 fps went on
        assert health.gaps == [] and health.reconnects == 0
        # no video loss: the sub stream's outage is not the camera's (the test pattern's black
        # background may well count as a covered lens: that is the analytics' business)
        assert not [alarm for alarm in sink.payloads("camera.alarm") if alarm["kind"] == "video_loss"]
    finally:
        service.stop()
        recording.stop()

    recordings_dir = tmp_path / "recordings"
    with session_scope(engine) as session:
        segments = session.scalars(
            select(RecordingSegment)
            .where(RecordingSegment.camera_id == "door")
            .order_by(RecordingSegment.start_utc)
        ).all()
        gaps = session.scalars(select(RecordingGap).where(RecordingGap.camera_id == "door")).all()
        rows = [(s.path, s.codec, s.width, s.height, s.status, s.start_utc, s.end_utc) for s in segments]
    assert gaps == []  # the main stream's recording went on unbroken
    assert len(rows) >= 4 and all(status == SEGMENT_CLOSED for *_, status, _s, _e in rows)
    for earlier, later in zip(rows, rows[1:], strict=False):
        assert later[5] - earlier[6] < 0.5  # each segment starts where the one before ended
    for path, codec, width, height, *_ in rows:
        assert (codec, width, height) == ("hevc", *MAIN_SIZE)
        probed = ffprobe(recordings_dir / path)
        assert (probed["codec_name"], probed["width"], probed["height"]) == ("hevc", *MAIN_SIZE)

    key = load_or_create_signing_key(tmp_path / "keys")
    start, end = rows[0][5], rows[-1][6]
    out = tmp_path / "door.zip"
    export_clip(
        engine,
        recordings_dir,
        "door",
        start,
        end,
        out,
        signing_key=key,
        zone=ZoneInfo("Asia/Shanghai"),
        user="t",
    )
    assert verify_package(out, {fingerprint(key)}) == []
    engine.dispose()
