"""A demo camera (an MP4 file: length-prefixed packets, avcC extradata) recorded through the real ingest."""

from __future__ import annotations

import time

import av
from sqlalchemy import select

from tests.video.record.recording_media import decode_frames
from watchwall.config.database import session_scope
from watchwall.config.settings import Settings
from watchwall.config.site import Site
from watchwall.video.ingest.supervisor import IngestService
from watchwall.video.record.models import SEGMENT_CLOSED, RecordingSegment
from watchwall.video.record.recorder import start_recording
from watchwall.video.record.segments import file_sha256
from watchwall.video.record.verify import verify_recordings

DEMO = {
    "pattern": "counter",
    "width": 320,
    "height": 180,
    "fps": 10,
    "seconds": 3,
    "gop": 10,
    "clock": False,
}  # the looped clip (MP4)


def demo_site() -> Site:
    camera = {"id": "demo1", "name": "demo1", "demo": DEMO}
    rooms = [{"code": "checkin", "name": "报到登记室", "cameras": [camera]}]
    return Site.model_validate(
        {"centres": [{"code": "qinzhou", "name": "秦州区", "level": "county", "rooms": rooms}]}
    )


def test_demo_camera_is_recorded_playable_and_chained(engine, recordings_dir, tmp_path):
    service = IngestService(demo_site(), settings=Settings(data_dir=tmp_path), keyframes=False)
    service.start()
    recorders = []
    try:
        recorders = start_recording(service.fanouts, engine, recordings_dir, segment_seconds=2)
        (recorder,) = recorders
        deadline = time.monotonic() + 60
        while recorder.segments_closed < 2 and time.monotonic() < deadline:
            assert recorder.errors == 0, "the recorder failed on the demo camera's packets"
            time.sleep(0.05)
    finally:
        service.stop(timeout=10)
        for started in recorders:
            started.stop()
    assert recorder.errors == 0
    assert recorder.segments_closed >= 2, "no segments closed within 60 s"
    assert recorder.bytes_written > 0

    with session_scope(engine) as session:
        rows = session.scalars(select(RecordingSegment).order_by(RecordingSegment.start_utc)).all()
    assert rows and all(row.status == SEGMENT_CLOSED for row in rows)
    assert all(row.codec == "h264" and (row.width, row.height) == (320, 180) for row in rows)
    for row in rows:
        path = recordings_dir / row.path
        assert (row.bytes, row.sha256) == (path.stat().st_size, file_sha256(path))
        with av.open(str(path)) as container:
            packets = sum(1 for packet in container.demux(video=0) if packet.size)
        assert packets > 0 and decode_frames(path) == packets, f"{row.path} does not decode fully"
    assert verify_recordings(engine, recordings_dir) == []
