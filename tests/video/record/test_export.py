"""Evidence export and verify: a valid package, each tampering named, holds, traversal refused."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import pytest
from sqlalchemy import select

from tests.video.record.recording_media import feed, h264_clip, media_packets, wait_drained
from watchwall.config.database import session_scope
from watchwall.config.errors import UserError
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.record.export import export_clip
from watchwall.video.record.models import RecordingHold, RecordingSegment
from watchwall.video.record.recorder import Recorder
from watchwall.video.record.segments import UnsafePathError
from watchwall.video.record.signing import fingerprint, load_or_create_signing_key
from watchwall.video.record.verify import verify_package

T0 = 1_790_000_000.0
ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def recorded(engine, recordings_dir):
    """cam1: 6 s in three 2 s segments (keyframe every second)."""
    info, raw = h264_clip(6.0)
    fanout = Fanout("cam1")
    recorder = Recorder("cam1", fanout, engine, recordings_dir, segment_seconds=2).start()
    feed(fanout, media_packets("cam1", info, raw, T0))
    wait_drained(fanout)
    recorder.stop()


@pytest.fixture
def key(tmp_path):
    return load_or_create_signing_key(tmp_path / "data")


def export(engine, recordings_dir, key, out, start=T0 + 1.5, end=T0 + 4.5, **kwargs):
    return export_clip(
        engine,
        recordings_dir,
        "cam1",
        start,
        end,
        out,
        signing_key=key,
        zone=ZONE,
        user="inspector-li",
        **kwargs,
    )


def rewrite_member(package: Path, name: str, change) -> None:
    with zipfile.ZipFile(package) as source:
        members = {n: source.read(n) for n in source.namelist()}
    members[name] = change(members[name])
    with zipfile.ZipFile(package, "w") as target:
        for member, data in members.items():
            target.writestr(member, data)


def test_export_cuts_at_keyframes_signs_and_verifies(engine, recordings_dir, recorded, key, tmp_path):
    audited = []
    out = tmp_path / "evidence.zip"
    result = export(
        engine,
        recordings_dir,
        key,
        out,
        reason="admonition 2026-09-21",
        place={"centre": "qinzhou", "room": "xunjie"},
        audit=lambda **entry: audited.append(entry),
    )
    manifest = result.manifest
    assert manifest["requested"]["start"]["epoch"] == T0 + 1.5
    assert manifest["actual"]["start"]["epoch"] == T0 + 1.0  # the keyframe before the requested start
    # the last frame that starts before the requested end, and its duration
    assert manifest["actual"]["end"]["epoch"] == pytest.approx(T0 + 4.52, abs=1e-3)
    assert manifest["actual"]["start"]["local"].endswith("+08:00")
    assert len(manifest["segments"]) == 3
    assert manifest["segments"][1]["prev_sha256"] == manifest["segments"][0]["sha256"]
    assert (manifest["camera"]["centre"], manifest["exported_by"]) == ("qinzhou", "inspector-li")
    with zipfile.ZipFile(out) as package, package.open("clip.mp4") as clip:
        with av.open(clip) as container:
            frames = sum(1 for _ in container.decode(container.streams.video[0]))
    assert frames == 88  # 1.0 s .. 4.5 s at 25 fps, all decodable from the first keyframe
    assert verify_package(out, {fingerprint(key)}) == []
    assert (
        audited
        and audited[0]["action"] == "export"
        and audited[0]["detail"]["clip_sha256"] == result.clip_sha256
    )
    with session_scope(engine) as session:
        hold = session.scalars(select(RecordingHold)).one()
    assert (hold.kind, hold.start_utc, round(hold.end_utc - T0, 3)) == ("export", T0 + 1.0, 4.52)


@pytest.mark.parametrize(
    ("member", "change", "kind"),
    [
        ("clip.mp4", lambda data: data[:-100] + bytes(100), "clip"),
        ("manifest.json", lambda data: data.replace(b"inspector-li", b"inspector-wu"), "manifest"),
        (
            "manifest.sig",
            lambda data: json.dumps({**json.loads(data), "signature": "00" * 64}).encode(),
            "signature",
        ),
    ],
)
def test_each_tampering_is_named(engine, recordings_dir, recorded, key, tmp_path, member, change, kind):
    out = tmp_path / "evidence.zip"
    export(engine, recordings_dir, key, out)
    rewrite_member(out, member, change)
    problems = verify_package(out, {fingerprint(key)})
    assert [p.kind for p in problems] == [kind]


def test_a_package_signed_by_another_key_is_unknown(engine, recordings_dir, recorded, key, tmp_path):
    other = load_or_create_signing_key(tmp_path / "other")
    out = tmp_path / "evidence.zip"
    export(engine, recordings_dir, other, out)
    assert [p.kind for p in verify_package(out, {fingerprint(key)})] == ["key"]
    assert verify_package(out, {fingerprint(key), fingerprint(other)}) == []


def test_path_traversal_and_empty_spans_are_refused(engine, recordings_dir, recorded, key, tmp_path):
    with pytest.raises(UnsafePathError):
        export_clip(
            engine,
            recordings_dir,
            "../../etc",
            T0,
            T0 + 1,
            tmp_path / "x.zip",
            signing_key=key,
            zone=ZONE,
            user="u",
        )
    with pytest.raises(Exception, match="no recording"):
        export(engine, recordings_dir, key, tmp_path / "x.zip", start=T0 + 100, end=T0 + 200)
    assert not (tmp_path / "x.zip").exists()


def test_the_signing_key_is_private_and_stable(tmp_path):
    first = load_or_create_signing_key(tmp_path / "data")
    second = load_or_create_signing_key(tmp_path / "data")
    assert fingerprint(first) == fingerprint(second)
    assert (tmp_path / "data" / "evidence-signing-key.pem").stat().st_mode & 0o777 == 0o600


def test_an_altered_source_segment_is_not_exported(engine, recordings_dir, recorded, key, tmp_path):
    with session_scope(engine) as session:
        middle = session.scalars(select(RecordingSegment).order_by(RecordingSegment.start_utc)).all()[1].path
    with open(recordings_dir / middle, "r+b") as handle:
        handle.seek(-10, 2)
        handle.write(b"0123456789")
    with pytest.raises(UserError, match=f"segment {middle} does not match"):
        export(engine, recordings_dir, key, tmp_path / "evidence.zip")
    assert not (tmp_path / "evidence.zip").exists()
