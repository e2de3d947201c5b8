"""Retention: pure decisions, then real deletions with holds, tombstones that keep the chain, audit rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from sqlalchemy import select

from tests.video.record.recording_media import feed, h264_clip, media_packets, wait_drained
from watchwall.audit.listing import AuditLog, list_entries, verify_chain
from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.record.models import SEGMENT_PRUNED, RecordingSegment
from watchwall.video.record.recorder import Recorder
from watchwall.video.record.retention import (
    AGE,
    DISK_FLOOR,
    QUOTA,
    RETENTION_ACTOR,
    Candidate,
    RetentionPolicy,
    Span,
    add_hold,
    apply_retention,
    choose_deletions,
)
from watchwall.video.record.verify import verify_recordings

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
    deleted = list_entries(engine, action="retention_delete")
    assert {e.actor for e in deleted} == {RETENTION_ACTOR}
    details = [json.loads(e.detail) for e in deleted]
    assert sorted((d["sha256"], d["reason"]) for d in details) == sorted(
        [(rows[0].sha256, AGE), (rows[2].sha256, AGE)]
    )
    assert verify_chain(engine) == []


ONE_CAMERA_SITE = """\
name: {zh: 测试, en: Test}
centres:
  - code: gangu
    name: {zh: 甘谷县, en: Gangu}
    level: county
    rooms:
      - code: checkin
        name: {zh: 报到登记室, en: Check-in}
        cameras:
          - {id: door, name: {zh: 登记台, en: Desk}, rtsp: "rtsp://127.0.0.1:9/none"}
"""


def watchwall_process(data_dir, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHWALL_")}
    env.update(WATCHWALL_DATA_DIR=str(data_dir), WATCHWALL_RETENTION_DAYS="30")
    return subprocess.run(
        [sys.executable, "-m", "watchwall.roles.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_watchwall_ingest_audits_its_retention_deletions(tmp_path):
    """``watchwall ingest`` runs retention with no audit callable of its own: the rows still go to the log."""
    data_dir = tmp_path / "data"
    url = f"sqlite:///{data_dir / 'watchwall.db'}"
    data_dir.mkdir()
    upgrade(url)
    engine = make_engine(url)
    info, raw = h264_clip(2.0)
    now = time.time()
    fanout = Fanout("door")
    recorder = Recorder("door", fanout, engine, data_dir / "recordings", segment_seconds=60).start()
    feed(fanout, media_packets("door", info, raw, now - 40 * DAY))  # past the 30 days
    feed(fanout, media_packets("door", info, raw, now - 2 * DAY))
    wait_drained(fanout)
    recorder.stop()
    site = tmp_path / "site.yaml"
    site.write_text(ONE_CAMERA_SITE, encoding="utf-8")

    # nothing listens on the camera's port: the run records nothing, its retention pass still runs
    ingest = watchwall_process(data_dir, "ingest", "--site", str(site), "--seconds", "2", "--no-thumbnails")
    assert ingest.returncode == 0, ingest.stderr

    with session_scope(engine) as session:
        rows = session.scalars(select(RecordingSegment).order_by(RecordingSegment.start_utc)).all()
    assert [row.status == SEGMENT_PRUNED for row in rows] == [True, False]
    entries = list_entries(engine, action="retention_delete")
    engine.dispose()
    assert [(e.actor, e.target, json.loads(e.detail)["path"]) for e in entries] == [
        (RETENTION_ACTOR, "door", rows[0].path)
    ]
    assert json.loads(entries[0].detail)["sha256"] == rows[0].sha256
    verified = watchwall_process(data_dir, "audit", "verify")
    assert (verified.returncode, verified.stdout.strip()) == (
        0,
        "audit log intact: 1 entries, anchored with this installation's key",
    )


def test_the_media_plane_audits_without_the_dashboard():
    """watchwall.video.record.retention reaches the audit log through config/, never by importing the dashboard."""
    probe = "import sys, video.record.retention; print(sorted(m for m in sys.modules if m.split('.')[0] == 'dashboard'))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr
