"""The recorder against real H.264 packets: segments, rollover at keyframes, index, chain, gaps."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from tests.video.record.recording_media import (
    decode_frames,
    feed,
    h264_clip,
    media_packets,
    new_stream,
    wait_drained,
)
from watchwall.config.database import session_scope
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.record.models import (
    GAP_CAMERA_OFFLINE,
    GAP_DROPPED,
    GAP_RECORDER_STOPPED,
    GAP_STALLED,
    SEGMENT_CLOSED,
    RecordingGap,
    RecordingSegment,
)
from watchwall.video.record.recorder import Recorder, staggered_length
from watchwall.video.record.segments import cut_to_complete_fragments, file_sha256, probe_extent
from watchwall.video.record.verify import verify_recordings

T0 = 1_790_000_000.0  # 2026-09-21, a fixed UTC instant


def segments_of(engine, camera_id):
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(RecordingSegment)
                .where(RecordingSegment.camera_id == camera_id)
                .order_by(RecordingSegment.start_utc)
            )
        )


def gaps_of(engine, camera_id):
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(RecordingGap)
                .where(RecordingGap.camera_id == camera_id)
                .order_by(RecordingGap.start_utc)
            )
        )


def record(engine, recordings_dir, packets, camera_id="cam1", **kwargs) -> Recorder:
    fanout = Fanout(camera_id)
    recorder = Recorder(camera_id, fanout, engine, recordings_dir, **kwargs).start()
    feed(fanout, packets)
    wait_drained(fanout)
    recorder.stop()
    return recorder


def test_segments_roll_over_at_keyframes_and_chain(engine, recordings_dir):
    info, raw = h264_clip(5.0)
    recorder = record(engine, recordings_dir, media_packets("cam1", info, raw, T0), segment_seconds=2)

    segments = segments_of(engine, "cam1")
    assert [s.status for s in segments] == [SEGMENT_CLOSED] * 3
    assert [round(s.start_utc - T0, 3) for s in segments] == [0.0, 2.0, 4.0]
    assert [round(s.duration_s, 3) for s in segments] == [2.0, 2.0, 1.0]
    assert segments[0].prev_sha256 is None
    for previous, current in zip(segments, segments[1:], strict=False):
        assert current.prev_sha256 == previous.sha256
    frames = 0
    for segment in segments:
        path = recordings_dir / segment.path
        assert segment.path.startswith("cam1/2026-09-21/")
        assert path.stat().st_size == segment.bytes
        assert file_sha256(path) == segment.sha256
        assert (segment.codec, segment.resolution) == ("h264", "320x240")
        frames += decode_frames(path)
    assert frames == len(raw) == recorder.packets_written == 125
    assert recorder.dropped == 0


def test_cameras_started_together_end_their_first_segments_apart_then_roll_over_whole():
    lengths = [staggered_length(f"cam{index:03d}", 60.0) for index in range(100)]
    assert all(30.0 <= length < 60.0 for length in lengths)
    assert lengths == [staggered_length(f"cam{index:03d}", 60.0) for index in range(100)]  # fixed a camera
    per_three_seconds = [
        sum(1 for length in lengths if 30 + 3 * step <= length < 33 + 3 * step) for step in range(10)
    ]
    # spread, not bunched
    assert max(per_three_seconds) <= 20 and min(per_three_seconds) >= 3, per_three_seconds


def test_the_first_segment_after_a_start_or_a_reconnect_is_the_camera_s_staggered_length(
    engine, recordings_dir
):
    assert 2.0 < staggered_length("door", 4.0) < 3.0
    info, raw = h264_clip(10.0)
    packets = media_packets("door", info, raw, T0)
    reconnected = [
        replace(packet, wallclock=packet.wallclock + 30.0)
        for packet in media_packets("door", info, raw, T0 + 10.0)
    ]
    record(engine, recordings_dir, packets + reconnected, camera_id="door", segment_seconds=4)
    segments = segments_of(engine, "door")
    # keyframes come every second: the first segment ends at the first one after 2.29 s
    assert [round(s.start_utc - T0, 3) for s in segments] == [0.0, 3.0, 7.0, 40.0, 43.0, 47.0]
    assert [round(s.duration_s, 3) for s in segments] == [3.0, 4.0, 3.0, 3.0, 4.0, 3.0]
    assert [gap.reason for gap in gaps_of(engine, "door")] == [GAP_CAMERA_OFFLINE]  # timestamps restarted


def test_outage_gives_a_gap_of_its_length_then_a_new_segment(engine, recordings_dir):
    info, raw = h264_clip(4.0)
    before = media_packets("cam1", info, raw[:50], T0)  # 2 s
    # a stall: the same stream, timestamps jump 7 s ahead
    stalled = media_packets("cam1", info, raw[50:], T0 + 9.0, dts_offset=7 * 90000)
    # a reconnect: a new stream whose timestamps restart, 5 s after the last packet
    reconnected_info = new_stream(info)
    after = media_packets("cam1", reconnected_info, raw, T0 + 16.0)
    record(engine, recordings_dir, before + stalled + after, segment_seconds=60)

    segments = segments_of(engine, "cam1")
    assert [(round(s.start_utc - T0, 3), round(s.end_utc - T0, 3)) for s in segments] == [
        (0.0, 2.0),
        (9.0, 11.0),
        (16.0, 20.0),
    ]
    gaps = gaps_of(engine, "cam1")
    assert [(round(g.start_utc - T0, 3), round(g.end_utc - T0, 3), g.reason) for g in gaps] == [
        (2.0, 9.0, GAP_STALLED),
        (11.0, 16.0, GAP_CAMERA_OFFLINE),
    ]
    assert all(decode_frames(recordings_dir / s.path) == 50 or s.start_utc == T0 + 16.0 for s in segments)
    assert decode_frames(recordings_dir / segments[-1].path) == 100


def test_restart_of_the_recorder_is_a_gap_with_its_reason(engine, recordings_dir):
    info, raw = h264_clip(2.0)
    record(engine, recordings_dir, media_packets("cam1", info, raw, T0))
    record(engine, recordings_dir, media_packets("cam1", new_stream(info), raw, T0 + 30.0))

    gaps = gaps_of(engine, "cam1")
    assert [(round(g.start_utc - T0, 3), round(g.end_utc - T0, 3), g.reason) for g in gaps] == [
        (2.0, 30.0, GAP_RECORDER_STOPPED)
    ]
    segments = segments_of(engine, "cam1")
    assert segments[1].prev_sha256 == segments[0].sha256


def test_dropped_packets_are_a_gap_and_recording_resumes_at_a_keyframe(engine, database_url, recordings_dir):
    info, raw = h264_clip(6.0)
    packets = media_packets("cam1", info, raw, T0)
    fanout = Fanout("cam1")
    recorder = Recorder("cam1", fanout, engine, recordings_dir, segment_seconds=1, queue_size=8).start()
    feed(fanout, packets[:25])
    wait_drained(fanout)
    # A slow database: another writer holds SQLite's write lock while the camera goes on.
    blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        feed(fanout, packets[25:26])  # the keyframe that rolls over: the recorder blocks on the index
        wait_drained(fanout)
        for packet in packets[26:125]:
            fanout.publish(packet)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    feed(fanout, packets[125:])
    wait_drained(fanout)
    recorder.stop()

    assert recorder.dropped == 99 - 8
    gaps = gaps_of(engine, "cam1")
    assert [(round(g.start_utc - T0, 3), round(g.end_utc - T0, 3), g.reason) for g in gaps] == [
        (1.04, 5.0, GAP_DROPPED)
    ]
    segments = segments_of(engine, "cam1")
    assert [round(s.start_utc - T0, 3) for s in segments] == [0.0, 1.0, 5.0]
    assert decode_frames(recordings_dir / segments[-1].path) == 25
    assert segments[2].prev_sha256 == segments[1].sha256


def test_a_camera_without_announced_parameter_sets_records_playable_video(engine, recordings_dir):
    info, raw = h264_clip(2.0)
    in_band_only = replace(info, extradata=None)  # SPS/PPS only inside the keyframes
    record(engine, recordings_dir, media_packets("cam1", in_band_only, raw, T0))
    (segment,) = segments_of(engine, "cam1")
    assert decode_frames(recordings_dir / segment.path) == 50


@pytest.mark.parametrize("torn", ["moof", "mdat"])
def test_a_segment_cut_short_plays_up_to_its_last_complete_fragment(engine, recordings_dir, tmp_path, torn):
    info, raw = h264_clip(4.0)
    record(engine, recordings_dir, media_packets("cam1", info, raw, T0))
    (segment,) = segments_of(engine, "cam1")
    data = (recordings_dir / segment.path).read_bytes()
    fragments = [i - 4 for i in range(len(data) - 4) if data[i : i + 4] == b"moof"]
    assert len(fragments) == 4  # one fragment a second (one keyframe a second)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: fragments[3] + (100 if torn == "moof" else 2000)])  # the disk stopped mid-box
    assert cut_to_complete_fragments(cut) in (100, 2000)
    extent = probe_extent(cut)
    assert (extent.packets, extent.end_s) == (75, 3.0)
    assert decode_frames(cut) == 75
    assert cut_to_complete_fragments(recordings_dir / segment.path) == 0  # a cleanly closed file is whole


def test_the_database_going_away_is_survived_and_recording_resumes(engine, recordings_dir):
    info, raw = h264_clip(6.0)
    packets = media_packets("cam1", info, raw, T0)
    fanout = Fanout("cam1")
    recorder = Recorder("cam1", fanout, engine, recordings_dir, segment_seconds=1, retry_after_s=0).start()
    feed(fanout, packets[:50])
    wait_drained(fanout)
    with engine.begin() as connection:  # the index disappears behind the recorder's back
        connection.exec_driver_sql("ALTER TABLE recording_segments RENAME TO recording_segments_away")
    feed(fanout, packets[50:100])
    wait_drained(fanout)
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE recording_segments_away RENAME TO recording_segments")
    feed(fanout, packets[100:])
    wait_drained(fanout)
    recorder.stop()

    # 2 s lost: opening segments at the keyframes at 2 s and 3 s failed
    assert (recorder.errors, recorder.packets_written) == (2, 100)
    segments = segments_of(engine, "cam1")
    assert [(round(s.start_utc - T0, 3), s.status) for s in segments] == [
        (0.0, SEGMENT_CLOSED),
        (1.0, "recovered"),  # left open when the index went away, closed from the disk on the retry
        (4.0, SEGMENT_CLOSED),
        (5.0, SEGMENT_CLOSED),
    ]
    assert [g.reason for g in gaps_of(engine, "cam1")] == ["write_error"]
    assert verify_recordings(engine, recordings_dir) == []


def test_a_silent_camera_gets_its_segment_closed_and_a_reconnect_gap(engine, recordings_dir):
    info, raw = h264_clip(2.0)
    fanout = Fanout("cam1")
    recorder = Recorder("cam1", fanout, engine, recordings_dir, idle_close_s=0.3).start()
    feed(fanout, media_packets("cam1", info, raw, T0))
    wait_drained(fanout)
    deadline = time.monotonic() + 20
    while not segments_of(engine, "cam1")[0].sha256 and time.monotonic() < deadline:  # closed when silent
        time.sleep(0.05)
    assert not recorder.recording
    assert [s.status for s in segments_of(engine, "cam1")] == [SEGMENT_CLOSED]
    feed(fanout, media_packets("cam1", new_stream(info), raw, T0 + 60))
    wait_drained(fanout)
    recorder.stop()
    assert [(g.start_utc - T0, g.end_utc - T0, g.reason) for g in gaps_of(engine, "cam1")] == [
        (2.0, 60.0, GAP_CAMERA_OFFLINE)
    ]
