"""A segment edited, deleted or swapped behind WatchWall's back, or a row removed: verify names it."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import delete, select

from tests.video.record.recording_media import feed, h264_clip, media_packets, wait_drained
from watchwall.config.database import session_scope
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.record.models import RecordingSegment
from watchwall.video.record.recorder import Recorder
from watchwall.video.record.segments import UnsafePathError
from watchwall.video.record.verify import verify_recordings

T0 = 1_790_000_000.0


@pytest.fixture
def four_segments(engine, recordings_dir):
    info, raw = h264_clip(4.0)
    for camera in ("cam1", "cam2"):
        fanout = Fanout(camera)
        recorder = Recorder(camera, fanout, engine, recordings_dir, segment_seconds=1).start()
        feed(fanout, media_packets(camera, info, raw, T0))
        wait_drained(fanout)
        recorder.stop()
    with session_scope(engine) as session:
        rows = session.scalars(
            select(RecordingSegment)
            .where(RecordingSegment.camera_id == "cam1")
            .order_by(RecordingSegment.start_utc)
        ).all()
    assert len(rows) == 4
    return [row.path for row in rows]


def kinds(problems):
    return sorted((p.kind, p.subject) for p in problems)


def test_untouched_recordings_verify_clean(engine, recordings_dir, four_segments):
    assert verify_recordings(engine, recordings_dir) == []


def test_edited_deleted_swapped_and_foreign_segments_are_named(engine, recordings_dir, four_segments):
    first, second, third, fourth = four_segments
    with open(recordings_dir / first, "r+b") as handle:  # flip one byte in the middle
        handle.seek(2000)
        byte = handle.read(1)
        handle.seek(2000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    (recordings_dir / second).unlink()
    third_path, fourth_path = recordings_dir / third, recordings_dir / fourth
    swap = third_path.with_suffix(".swap")
    third_path.rename(swap)
    fourth_path.rename(third_path)
    swap.rename(fourth_path)
    shutil.copy(third_path, third_path.parent / "20260921T000000.000Z.mp4")

    problems = verify_recordings(engine, recordings_dir, "cam1")
    assert kinds(problems) == [
        ("edited", first),
        ("missing", second),
        ("replaced", third),
        ("replaced", fourth),
        ("unindexed", str(third_path.parent.relative_to(recordings_dir) / "20260921T000000.000Z.mp4")),
    ]
    assert verify_recordings(engine, recordings_dir, "cam2") == []
    assert all(str(p).startswith(p.kind) for p in problems)


def test_a_removed_index_row_breaks_the_chain(engine, recordings_dir, four_segments):
    with session_scope(engine) as session:
        session.execute(delete(RecordingSegment).where(RecordingSegment.path == four_segments[1]))
    problems = verify_recordings(engine, recordings_dir, "cam1")
    assert kinds(problems) == [("chain", four_segments[2]), ("unindexed", four_segments[1])]


def test_camera_id_with_path_traversal_is_refused(engine, recordings_dir):
    with pytest.raises(UnsafePathError):
        verify_recordings(engine, recordings_dir, "../../etc")
