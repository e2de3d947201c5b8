"""Evidence locks: a span recorded from a real GStreamer camera into PostgreSQL, locked with the CLI,
survives a retention run at a disk floor that deletes everything else; an admin's unlock with a
reason lets the next run delete it; both audited. The disk-full alarm when locked video fills the
disk, refusals that write nothing, and ``verify`` naming a locked span that was altered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.rtsp_process import RtspServerProcess
from tests.video.record.recording_media import feed, h264_clip, media_packets, wait_drained
from watchwall.audit.listing import AuditEntry, list_entries, verify_chain
from watchwall.config.database import make_engine, session_scope
from watchwall.config.settings import reset_settings_cache
from watchwall.config.site import Site
from watchwall.dashboard import evidence_marks
from watchwall.dashboard.accounts import Principal, add_user
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.record.locks import EvidenceLockRow, LockError, list_locks
from watchwall.video.record.models import SEGMENT_PRUNED, RecordingSegment
from watchwall.video.record.recorder import DISK_FULL_EVENT, Recorder
from watchwall.video.record.recording_service import RetentionLoop
from watchwall.video.record.retention import RETENTION_ACTOR, RetentionPolicy, apply_retention
from watchwall.video.record.verify import verify_locks
from watchwall.video.state.events import MemorySink

ROOT = Path(__file__).resolve().parents[3]
CAMERA = "door"
PASSWORD = "correct horse battery"
T0 = 1_790_000_000.0
FLOOR_NEVER_MET = RetentionPolicy(default_days=None, min_free_bytes=10**15)
SITE_YAML = """\
centres:
  - code: gangu
    name: 甘谷县
    level: county
    rooms:
      - code: checkin
        name: 报到登记室
        cameras:
          - {{id: {camera}, name: 登记台, rtsp: '{url}'}}
  - code: maiji
    name: 麦积区
    level: county
    rooms:
      - code: checkin
        name: 报到登记室
        cameras:
          - {{id: maiji-door, name: 登记台, rtsp: 'rtsp://127.0.0.1:9/none'}}
"""
SITE = Site.model_validate(
    {
        "centres": [
            {
                "code": "gangu",
                "name": "甘谷县",
                "level": "county",
                "rooms": [
                    {
                        "code": "checkin",
                        "name": "报到登记室",
                        "cameras": [
                            {"id": camera, "name": camera, "rtsp": "rtsp://127.0.0.1:9/none"}
                            for camera in ("cam1", "cam2")
                        ],
                    }
                ],
            },
            {"code": "maiji", "name": "麦积区", "level": "county", "rooms": []},
        ]
    }
)
INSPECTOR = Principal("inspector-li", "inspector")
ADMIN = Principal("admin", "admin")


def watchwall(env: dict, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "watchwall.roles.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def segments(engine) -> list[RecordingSegment]:
    with session_scope(engine) as session:
        return session.scalars(
            select(RecordingSegment)
            .where(RecordingSegment.sha256.is_not(None))
            .order_by(RecordingSegment.start_utc)
        ).all()


def audit_count(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.mark.rtsp
def test_locked_span_survives_the_disk_floor_until_an_admin_unlocks_it(postgres_url, tmp_path, monkeypatch):
    # this process writes audit rows too (retention below): the same installation, the same anchor key
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path / "data"))
    reset_settings_cache()
    camera = RtspServerProcess({"/cam0": "h264"}).start()
    try:
        site = tmp_path / "site.yaml"
        site.write_text(SITE_YAML.format(camera=CAMERA, url=camera.url("/cam0")), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHWALL_")}
        env.update(
            WATCHWALL_DATA_DIR=str(tmp_path / "data"),
            WATCHWALL_DATABASE_URL=postgres_url,
            WATCHWALL_SITE=str(site),
            WATCHWALL_RECORDING_SEGMENT_S="2",
        )
        ingest = watchwall(env, "ingest", "--seconds", "12", "--no-thumbnails")
        assert ingest.returncode == 0, ingest.stderr
    finally:
        camera.kill()
    engine = make_engine(postgres_url)
    recordings_dir = tmp_path / "data" / "recordings"
    try:
        recorded = segments(engine)
        assert len(recorded) >= 4, [(s.start_utc, s.end_utc, s.status) for s in recorded]
        for name, role, counties in (
            ("inspector-li", "inspector", []),
            ("admin", "admin", []),
            ("inspector-wang", "inspector", ["maiji"]),
        ):
            add_user(engine, name, PASSWORD, role, counties, {"gangu", "maiji"})
        kept = recorded[1]
        span = [kept.start_utc + 0.2, kept.end_utc - 0.2]
        iso = [_iso(moment) for moment in span]

        refused = watchwall(
            env,
            "lock",
            "add",
            "--camera",
            CAMERA,
            "--from",
            iso[0],
            "--to",
            iso[1],
            "--reason",
            "案件 17",
            "--user",
            "inspector-wang",
        )
        assert refused.returncode != 0 and "may not lock camera door of centre gangu" in refused.stderr
        locked = watchwall(
            env,
            "lock",
            "add",
            "--camera",
            CAMERA,
            "--from",
            iso[0],
            "--to",
            iso[1],
            "--reason",
            "案件 17 宣告录像",
            "--user",
            "inspector-li",
        )
        assert locked.returncode == 0, locked.stderr
        (lock,) = list_locks(engine)
        assert (lock.cameras, lock.created_by, lock.expires_utc) == ((CAMERA,), "inspector-li", None)
        listed = watchwall(env, "lock", "list", "--user", "inspector-li")
        assert (
            listed.returncode == 0 and f"{lock.id}  {CAMERA}" in listed.stdout and "locked" in listed.stdout
        )

        report = apply_retention(engine, recordings_dir, FLOOR_NEVER_MET, free_bytes=0)
        assert {d.segment.path for d in report.deleted} == {s.path for s in recorded} - {kept.path}
        assert report.locked_bytes == kept.bytes and report.lock_ids == (lock.id,)
        assert report.still_needed_bytes > 0
        after = {s.path: s.status for s in segments(engine)}
        assert after[kept.path] != SEGMENT_PRUNED and (recordings_dir / kept.path).exists()
        assert all(status == SEGMENT_PRUNED for path, status in after.items() if path != kept.path)

        verified = watchwall(env, "verify", "--recordings")
        assert verified.returncode == 0, verified.stdout
        assert f"locked span {lock.id} {CAMERA} " in verified.stdout
        assert ": intact (1 segments)" in verified.stdout

        # Only an admin unlocks, and only with a reason; a refusal writes nothing.
        before = audit_count(engine)
        not_admin = watchwall(
            env, "lock", "remove", str(lock.id), "--reason", "结案", "--user", "inspector-li"
        )
        assert not_admin.returncode != 0 and "only an administrator unlocks" in not_admin.stderr
        no_reason = watchwall(env, "lock", "remove", str(lock.id), "--reason", "  ", "--user", "admin")
        assert no_reason.returncode != 0 and "needs a reason" in no_reason.stderr
        assert audit_count(engine) == before and list_locks(engine) != []
        unlocked = watchwall(env, "lock", "remove", str(lock.id), "--reason", "案件已结案", "--user", "admin")
        assert unlocked.returncode == 0, unlocked.stderr
        assert list_locks(engine) == []

        second = apply_retention(engine, recordings_dir, FLOOR_NEVER_MET, free_bytes=0)
        assert [d.segment.path for d in second.deleted] == [kept.path] and second.locked_bytes == 0
        assert not (recordings_dir / kept.path).exists()

        entries = list_entries(engine, limit=500)
        lock_entries = [(e.action, e.actor, e.address) for e in entries if e.action in ("lock", "unlock")]
        assert lock_entries == [("unlock", "admin", "cli"), ("lock", "inspector-li", "cli")]
        unlock_detail = json.loads(entries[[e.action for e in entries].index("unlock")].detail)
        assert unlock_detail["reason"] == "案件已结案" and unlock_detail["locked_by"] == "inspector-li"
        deleted = [json.loads(e.detail)["path"] for e in entries if e.action == "retention_delete"]
        assert deleted[0] == kept.path and sorted(deleted) == sorted(s.path for s in recorded)
        assert {e.actor for e in entries if e.action == "retention_delete"} == {RETENTION_ACTOR}
        assert verify_chain(engine) == []
    finally:
        engine.dispose()
        reset_settings_cache()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def record(engine, recordings_dir, camera: str = "cam1", seconds: float = 6.0) -> None:
    info, raw = h264_clip(seconds)
    fanout = Fanout(camera)
    recorder = Recorder(camera, fanout, engine, recordings_dir, segment_seconds=2).start()
    feed(fanout, media_packets(camera, info, raw, T0))
    wait_drained(fanout)
    recorder.stop()


def test_locked_video_filling_the_disk_raises_the_disk_full_alarm_once(engine, recordings_dir):
    record(engine, recordings_dir)
    lock = evidence_marks.add_lock(
        engine, SITE, INSPECTOR, camera_ids=["cam1"], start_utc=T0, end_utc=T0 + 10, reason="督察取证"
    )
    sink = MemorySink()
    loop = RetentionLoop(engine, recordings_dir, FLOOR_NEVER_MET, interval_s=3600, sink=sink)
    first = loop.run_once()
    assert first.deleted == [] and first.lock_ids == (lock.id,)
    (alarm,) = sink.payloads(DISK_FULL_EVENT)
    assert alarm["reason"] == "locked" and alarm["lock_ids"] == [lock.id]
    assert alarm["locked_bytes"] == sum(s.bytes for s in segments(engine)) > 0
    loop.run_once()
    assert len(sink.payloads(DISK_FULL_EVENT)) == 1  # one alarm while it lasts, not one per pass
    assert all((recordings_dir / s.path).exists() for s in segments(engine))

    evidence_marks.remove_lock(engine, ADMIN, lock.id, reason="已导出归档")
    third = loop.run_once()
    assert len(third.deleted) == len(segments(engine)) and third.locked_bytes == 0
    assert len(sink.payloads(DISK_FULL_EVENT)) == 1


def test_an_expired_lock_no_longer_keeps_its_span(engine, recordings_dir):
    record(engine, recordings_dir)
    evidence_marks.add_lock(
        engine,
        SITE,
        INSPECTOR,
        camera_ids=["cam1"],
        start_utc=T0,
        end_utc=T0 + 10,
        reason="限期保存",
        expires_utc=T0 + 1_000_000_000,
    )
    kept = apply_retention(engine, recordings_dir, FLOOR_NEVER_MET, free_bytes=0, now_utc=T0 + 60)
    assert kept.deleted == []
    later = apply_retention(engine, recordings_dir, FLOOR_NEVER_MET, free_bytes=0, now_utc=T0 + 1_000_000_001)
    assert len(later.deleted) == 3


@pytest.mark.parametrize(
    ("principal", "changes", "message"),
    [
        (INSPECTOR, {"start_utc": T0 + 4, "end_utc": T0 + 1}, "must come after its start"),
        (INSPECTOR, {"start_utc": T0 + 100, "end_utc": T0 + 200}, "no recording of cam1"),
        (INSPECTOR, {"camera_ids": ["cam1", "cam2"]}, "no recording of cam2"),
        (INSPECTOR, {"camera_ids": ["cam1", "cam1"]}, "named twice"),
        (INSPECTOR, {"camera_ids": []}, "at least one camera"),
        (INSPECTOR, {"camera_ids": ["ghost"]}, "unknown camera"),
        (INSPECTOR, {"reason": " "}, "needs a reason"),
        (INSPECTOR, {"expires_utc": 1.0}, "must be in the future"),
        (Principal("inspector-wang", "inspector", ("maiji",)), {}, "may not lock camera cam1"),
        (Principal("sup-gangu", "county_supervisor", ("gangu",)), {}, "may not lock"),
    ],
)
def test_bad_locks_are_refused_and_write_nothing(engine, recordings_dir, principal, changes, message):
    record(engine, recordings_dir, seconds=4.0)
    values = {"camera_ids": ["cam1"], "start_utc": T0, "end_utc": T0 + 3, "reason": "督察取证"}
    values.update(changes)
    before = audit_count(engine)
    with pytest.raises((LockError, evidence_marks.Refused), match=message):
        evidence_marks.add_lock(engine, SITE, principal, **values)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(EvidenceLockRow)) == 0
    assert audit_count(engine) == before


def test_verify_names_a_locked_span_that_was_altered(engine, recordings_dir):
    record(engine, recordings_dir)
    lock = evidence_marks.add_lock(
        engine, SITE, INSPECTOR, camera_ids=["cam1"], start_utc=T0 + 2.5, end_utc=T0 + 5, reason="督察取证"
    )
    (check,) = verify_locks(engine, recordings_dir)
    assert check.intact and check.segments == 2 and check.lock_id == lock.id
    victim = segments(engine)[2]
    with (recordings_dir / victim.path).open("r+b") as handle:
        handle.seek(2000)
        byte = handle.read(1)
        handle.seek(2000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    (check,) = verify_locks(engine, recordings_dir)
    assert not check.intact
    assert [(p.kind, p.subject) for p in check.problems] == [("edited", victim.path)]
