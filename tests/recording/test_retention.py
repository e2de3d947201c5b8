"""Retention: pure decisions, then real deletions with holds, tombstones that keep the chain, audit rows."""

from __future__ import annotations

import json

from recording_media import feed, h264_clip, media_packets, wait_drained
from sqlalchemy import select

from config.database import session_scope
from dashboard.audit import AuditLog, list_entries, verify_chain
from video.fanout import Fanout
from video.models import SEGMENT_PRUNED, RecordingSegment
from video.recorder import Recorder
from video.retention import (
    AGE,
    DISK_FLOOR,
    QUOTA,
    Candidate,
    RetentionPolicy,
    Span,
    add_hold,
    apply_retention,
    choose_deletions,
)
from video.verify import verify_recordings

DAY = 86_400.0
NOW = 1_790_000_000.0


def candidate(number: int, camera: str, start: float, size: int = 100) -> Candidate:
    return Candidate(number, camera, f"{camera}/{number}.mp4", start, start + 60, size)


def test_age_is_per_camera_and_holds_win():
    old = [
        candidate(1, "a", NOW - 40 * DAY),
        candidate(2, "b", NOW - 40 * DAY),
        candidate(3, "a", NOW - 50 * DAY),
    ]
    recent = [candidate(4, "a", NOW - DAY)]
    policy = RetentionPolicy(default_days=30, camera_days={"b": 90})
    holds = [Span("a", NOW - 50 * DAY + 30, NOW - 50 * DAY + 31)]
    chosen = choose_deletions(old + recent, holds, policy, NOW, free_bytes=10**12, used_bytes=400)
    assert [(d.segment.id, d.reason) for d in chosen] == [(1, AGE)]


def test_disk_floor_deletes_oldest_first_skipping_holds():
    segments = [candidate(n, "a", NOW - (10 - n) * 60) for n in range(10)]
    holds = [Span("b", 0, NOW), Span("a", segments[1].start_utc, segments[1].end_utc)]
    policy = RetentionPolicy(default_days=None, min_free_bytes=1_000)
    chosen = choose_deletions(segments, holds, policy, NOW, free_bytes=750, used_bytes=1_000)
    assert [(d.segment.id, d.reason) for d in chosen] == [(0, DISK_FLOOR), (2, DISK_FLOOR), (3, DISK_FLOOR)]
    quota = RetentionPolicy(default_days=None, quota_bytes=800)
    assert [d.segment.id for d in choose_deletions(segments, [], quota, NOW, 10**12, 1_000)] == [0, 1]
    assert {d.reason for d in choose_deletions(segments, [], quota, NOW, 10**12, 1_000)} == {QUOTA}


def test_pruning_keeps_held_segments_tombstones_and_audits(engine, recordings_dir):
    info, raw = h264_clip(3.0)
    fanout = Fanout("cam1")
    recorder = Recorder("cam1", fanout, engine, recordings_dir, segment_seconds=1).start()
    feed(fanout, media_packets("cam1", info, raw, NOW - 40 * DAY))  # three old segments
    feed(fanout, media_packets("cam1", info, raw, NOW - 1 * DAY))  # three recent ones
    wait_drained(fanout)
    recorder.stop()
    audit = AuditLog(engine)
    add_hold(
        engine,
        "cam1",
        NOW - 40 * DAY + 1.2,
        NOW - 40 * DAY + 1.3,
        user="inspector-li",
        reason="case 17",
        audit=audit,
    )

    report = apply_retention(
        engine, recordings_dir, RetentionPolicy(default_days=30), now_utc=NOW, audit=audit
    )

    with session_scope(engine) as session:
        rows = session.scalars(select(RecordingSegment).order_by(RecordingSegment.start_utc)).all()
    assert [r.status == SEGMENT_PRUNED for r in rows] == [True, False, True, False, False, False]
    assert [(recordings_dir / r.path).exists() for r in rows] == [False, True, False, True, True, True]
    assert [d.segment.path for d in report.deleted] == [rows[0].path, rows[2].path]
    assert verify_recordings(engine, recordings_dir) == []  # tombstones keep the chain whole
    details = [json.loads(e.detail) for e in list_entries(engine, action="retention_delete")]
    assert sorted((d["sha256"], d["reason"]) for d in details) == sorted(
        [(rows[0].sha256, AGE), (rows[2].sha256, AGE)]
    )
    assert verify_chain(engine) == []
