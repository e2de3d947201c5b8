"""A full disk (a real 2 MB tmpfs) gives a recorder.disk_full alarm and a gap, never a crash; recording resumes."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import select

from tests.video.record.recording_media import decode_frames, feed, h264_clip, media_packets, wait_drained
from watchwall.config.database import session_scope
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.record.models import GAP_DISK_FULL, RecordingGap, RecordingSegment
from watchwall.video.record.recorder import DISK_FULL_EVENT, Recorder
from watchwall.video.record.verify import verify_recordings
from watchwall.video.state.events import MemorySink

T0 = 1_790_000_000.0


@pytest.fixture
def tiny_disk(tmp_path):
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_disk_full_alarms_records_a_gap_and_resumes(engine, tiny_disk):
    recordings_dir = tiny_disk / "recordings"
    filler = tiny_disk / "filler"
    with open(filler, "wb") as handle:  # leave about 40 kB: the first seconds fit, then the disk is full
        handle.write(b"\0" * (2 * 1024 * 1024 - 40 * 1024))
    info, raw = h264_clip(12.0, width=640, height=480)
    packets = media_packets("cam1", info, raw, T0)
    sink = MemorySink()
    fanout = Fanout("cam1")
    recorder = Recorder(
        "cam1", fanout, engine, recordings_dir, segment_seconds=60, sink=sink, retry_after_s=0
    )
    recorder.start()
    feed(fanout, packets[:200])
    wait_drained(fanout)
    assert sink.payloads(DISK_FULL_EVENT), "no disk-full alarm"
    assert recorder._thread.is_alive()
    filler.unlink()  # the operator frees space
    feed(fanout, packets[200:])
    wait_drained(fanout)
    recorder.stop()

    with session_scope(engine) as session:
        segments = session.scalars(
            select(RecordingSegment)
            .where(RecordingSegment.sha256.is_not(None))
            .order_by(RecordingSegment.start_utc)
        ).all()
        gaps = session.scalars(select(RecordingGap).order_by(RecordingGap.start_utc)).all()
    (gap,) = gaps
    assert gap.reason == GAP_DISK_FULL and gap.end_utc == T0 + 8.0
    assert segments[0].start_utc == T0 and abs(segments[0].end_utc - gap.start_utc) < 0.001
    resumed = segments[-1]
    assert resumed.start_utc == T0 + 8.0  # the first keyframe after space came back
    assert decode_frames(recordings_dir / resumed.path) == 100
    assert verify_recordings(engine, recordings_dir) == []
    (payload,) = sink.payloads(DISK_FULL_EVENT)  # one alarm for the outage, not one per retry
    assert payload["camera_id"] == "cam1" and payload["free_bytes"] < 100_000
