"""Playback for the browser: fMP4 from the index (init segment + fragments), Range, seek, timeline."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import av
import pytest
from sqlalchemy import select

from tests.video.record.recording_media import feed, h264_clip, media_packets, wait_drained
from watchwall.audit.listing import AuditLog, list_entries
from watchwall.config.database import session_scope
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.record.models import GAP_STALLED, RecordingSegment
from watchwall.video.record.playback import (
    NoRecordingError,
    parse_range,
    playback_file,
    prune_playback_cache,
    read_range,
    seek,
    timeline,
)
from watchwall.video.record.recorder import Recorder
from watchwall.video.record.segments import UnsafePathError

T0 = 1_790_000_000.0  # 2026-09-21 22:13:20 in Tianshui
ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def recorded(engine, recordings_dir):
    """cam1: 0-4 s in two segments, a stall, then 10-14 s."""
    info, raw = h264_clip(4.0)
    fanout = Fanout("cam1")
    recorder = Recorder("cam1", fanout, engine, recordings_dir, segment_seconds=2).start()
    feed(fanout, media_packets("cam1", info, raw, T0))
    feed(fanout, media_packets("cam1", info, raw, T0 + 10, dts_offset=10 * 90000))
    wait_drained(fanout)
    recorder.stop()


def top_level_boxes(data: bytes) -> list[bytes]:
    boxes, position = [], 0
    while position + 8 <= len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        boxes.append(data[position + 4 : position + 8])
        position += size
    return boxes


def test_playback_is_fragmented_mp4_from_the_keyframe_before_the_start(
    engine, recordings_dir, recorded, tmp_path
):
    audit = AuditLog(engine)
    played = playback_file(
        engine,
        recordings_dir,
        tmp_path / "cache",
        "cam1",
        T0 + 1.5,
        T0 + 12.0,
        audit=audit,
        actor="li",
        address="10.0.0.5",
    )
    assert played.actual_start_utc == T0 + 1.0
    assert played.actual_end_utc == pytest.approx(T0 + 12.0, abs=1e-3)
    data = played.path.read_bytes()
    assert len(data) == played.length
    boxes = top_level_boxes(data)
    assert boxes[:2] == [b"ftyp", b"moov"] and boxes[2] == b"moof" and b"mdat" in boxes  # what MSE wants
    with av.open(str(played.path)) as container:
        frames = list(container.decode(container.streams.video[0]))
    assert len(frames) == 75 + 50  # 1-4 s and 10-12 s
    (entry,) = list_entries(engine, action="playback")
    assert (entry.actor, entry.target, entry.address) == ("li", "cam1", "10.0.0.5")
    again = playback_file(engine, recordings_dir, tmp_path / "cache", "cam1", T0 + 1.5, T0 + 12.0)
    assert again.path == played.path  # cached
    assert prune_playback_cache(tmp_path / "cache", max_bytes=played.length) == 0
    assert prune_playback_cache(tmp_path / "cache", max_bytes=played.length - 1) == 1
    assert not played.path.exists()


def test_range_requests(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 4)
    assert parse_range(None, 1024) is None
    assert parse_range("bytes=0-99", 1024) == (0, 99)
    assert parse_range("bytes=1000-", 1024) == (1000, 1023)
    assert parse_range("bytes=-24", 1024) == (1000, 1023)
    assert parse_range("bytes=10-5000", 1024) == (10, 1023)
    with pytest.raises(ValueError):
        parse_range("bytes=2000-", 1024)
    assert b"".join(read_range(path, 250, 260, chunk=4)) == bytes(
        [250, 251, 252, 253, 254, 255, 0, 1, 2, 3, 4]
    )


def test_seek_answers_from_the_index(engine, recordings_dir, recorded):
    inside = seek(engine, "cam1", T0 + 3.25)
    assert inside.segment is not None and inside.segment.start_utc == T0 + 2.0 and inside.offset_s == 1.25
    outage = seek(engine, "cam1", T0 + 6.0)
    assert (outage.segment, outage.gap_reason, outage.next_start_utc) == (None, GAP_STALLED, T0 + 10.0)


def test_timeline_of_a_local_day(engine, recordings_dir, recorded):
    alarms = [{"at_utc": T0 + 5, "event": "camera.stalled"}, {"at_utc": T0 - 86_400, "event": "old"}]
    day = timeline(engine, "cam1", date(2026, 9, 21), ZONE, alarms)
    assert [(s["start_utc"] - T0, s["end_utc"] - T0) for s in day["segments"]] == [
        (0, 2),
        (2, 4),
        (10, 12),
        (12, 14),
    ]
    assert [(g["start_utc"] - T0, g["end_utc"] - T0, g["reason"]) for g in day["gaps"]] == [
        (4, 10, GAP_STALLED)
    ]
    assert [a["event"] for a in day["alarms"]] == ["camera.stalled"]
    assert timeline(engine, "cam1", date(2026, 9, 22), ZONE)["segments"] == []


def test_traversal_and_nothing_recorded_are_refused(engine, recordings_dir, recorded, tmp_path):
    with pytest.raises(UnsafePathError):
        playback_file(engine, recordings_dir, tmp_path / "cache", "../cam1", T0, T0 + 1)
    with pytest.raises(UnsafePathError):
        seek(engine, "cam1/../../etc", T0)
    with pytest.raises(NoRecordingError):
        playback_file(engine, recordings_dir, tmp_path / "cache", "cam1", T0 + 5, T0 + 9)


def test_an_index_row_pointing_outside_the_recordings_is_refused(engine, recordings_dir, recorded, tmp_path):
    with session_scope(engine) as session:
        row = session.scalars(select(RecordingSegment).order_by(RecordingSegment.start_utc)).first()
        row.path = "../../../../etc/passwd"
    with pytest.raises(UnsafePathError):
        playback_file(engine, recordings_dir, tmp_path / "cache", "cam1", T0, T0 + 1)
