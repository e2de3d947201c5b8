"""The site recording service: retention loop with the settings' policy, the playback cache trimmed, bounded stop."""

from __future__ import annotations

import os
import time

from sqlalchemy import select

from tests.video.record.recording_media import feed, h264_clip, media_packets, wait_drained
from watchwall.config.database import session_scope
from watchwall.config.settings import Settings
from watchwall.config.site import Site
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.supervisor import IngestService
from watchwall.video.record.models import SEGMENT_CLOSED, SEGMENT_PRUNED, RecordingSegment
from watchwall.video.record.recorder import Recorder
from watchwall.video.record.recording_service import retention_policy, start_site_recording
from watchwall.video.record.segments import default_recordings_dir

DAY = 86_400.0


def one_camera_site() -> Site:
    camera = {"id": "door", "name": "door", "rtsp": "rtsp://127.0.0.1:9/none"}
    rooms = [{"code": "checkin", "name": "报到登记室", "cameras": [camera]}]
    return Site.model_validate(
        {"centres": [{"code": "gangu", "name": "甘谷县", "level": "county", "rooms": rooms}]}
    )


def record_clip(engine, recordings_dir, start_utc: float) -> None:
    info, raw = h264_clip(2.0)
    fanout = Fanout("door")
    recorder = Recorder("door", fanout, engine, recordings_dir, segment_seconds=60).start()
    feed(fanout, media_packets("door", info, raw, start_utc))
    wait_drained(fanout)
    recorder.stop()


def test_settings_give_the_retention_policy():
    policy = retention_policy(Settings(retention_days=7, retention_min_free_gb=1.5))
    assert policy.days_for("any") == 7.0 and policy.min_free_bytes == 1_500_000_000
    assert (
        retention_policy(Settings()).min_free_bytes is None
        and retention_policy(Settings()).default_days == 30
    )


def test_retention_loop_prunes_old_segments_audits_and_stops(engine, tmp_path):
    settings = Settings(data_dir=tmp_path, retention_days=30, recording_segment_s=5)
    recordings_dir = default_recordings_dir(settings)
    now = time.time()
    record_clip(engine, recordings_dir, now - 40 * DAY)  # older than 30 days
    record_clip(engine, recordings_dir, now - 2 * DAY)
    cache = tmp_path / "cache" / "playback"
    cache.mkdir(parents=True)
    stale = cache / "stale.mp4"
    stale.write_bytes(b"\0" * 1024)
    os.utime(stale, (now - DAY, now - DAY))

    audited: list[dict] = []
    ingest = IngestService(one_camera_site(), settings=settings, keyframes=False)  # never started: no packets
    recording = start_site_recording(
        ingest, engine, settings, audit=lambda **entry: audited.append(entry), retention_interval_s=0.2
    )
    try:
        assert set(ingest.recorders) == {"door"} and ingest.recorders["door"] is recording.recorders["door"]
        deadline = time.monotonic() + 30
        while recording.retention.passes < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert recording.retention.passes >= 2, "the retention loop did not run twice within 30 s"
    finally:
        started = time.monotonic()
        recording.stop(timeout=10)
        stop_took = time.monotonic() - started
    assert stop_took < 10 and not recording.retention._thread.is_alive()

    with session_scope(engine) as session:
        rows = session.scalars(select(RecordingSegment).order_by(RecordingSegment.start_utc)).all()
    assert [row.status for row in rows] == [SEGMENT_PRUNED, SEGMENT_CLOSED]
    assert not (recordings_dir / rows[0].path).exists() and (recordings_dir / rows[1].path).exists()
    assert recording.retention.deleted == 1
    assert [(entry["action"], entry["detail"]["path"]) for entry in audited] == [
        ("retention_delete", rows[0].path)
    ]
    assert stale.exists()  # within the cache's size budget: kept
    assert recording.figures() == {
        "door": {"recording": False, "segments": 0, "packets": 0, "bytes": 0, "dropped": 0, "errors": 0}
    }
