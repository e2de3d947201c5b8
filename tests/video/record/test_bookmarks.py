"""Bookmarks on PostgreSQL: add, edit, delete, links, every change audited; bad input writes nothing;
an export carries its span's bookmarks in the signed manifest and verify names an edited one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.video.record.recording_media import feed, h264_clip, media_packets, wait_drained
from watchwall.audit.listing import AuditEntry, list_entries, verify_chain
from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.config.site import Site
from watchwall.dashboard import evidence_marks
from watchwall.dashboard.accounts import Principal, add_user
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.record.bookmarks import (
    BookmarkError,
    BookmarkLinkRow,
    BookmarkRow,
    bookmarks_between,
    bookmarks_for,
    link_bookmark,
    links_of,
)
from watchwall.video.record.export import MANIFEST_NAME, export_clip
from watchwall.video.record.recorder import Recorder
from watchwall.video.record.signing import fingerprint, load_or_create_signing_key
from watchwall.video.record.verify import verify_package

T0 = 1_790_000_000.0
ZONE = ZoneInfo("Asia/Shanghai")
SITE = Site.model_validate(
    {
        "centres": [
            {
                "code": code,
                "name": name,
                "level": "county",
                "rooms": [
                    {
                        "code": "announce",
                        "name": "宣告室",
                        "cameras": [{"id": camera, "name": camera, "rtsp": "rtsp://127.0.0.1:9/none"}],
                    }
                ],
            }
            for code, name, camera in (("qinzhou", "秦州区", "cam1"), ("maiji", "麦积区", "cam2"))
        ]
    }
)
INSPECTOR = Principal("inspector-li", "inspector")
MAIJI_INSPECTOR = Principal("inspector-wang", "inspector", ("maiji",))
SUPERVISOR = Principal("sup-qinzhou", "county_supervisor", ("qinzhou",))
ADMIN = Principal("admin", "admin")


@pytest.fixture
def pg_engine(postgres_url):
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def record(engine, recordings_dir, camera: str = "cam1", start: float = T0, seconds: float = 6.0) -> None:
    """Real H.264 through the real recorder: 2 s segments."""
    info, raw = h264_clip(seconds)
    fanout = Fanout(camera)
    recorder = Recorder(camera, fanout, engine, recordings_dir, segment_seconds=2).start()
    feed(fanout, media_packets(camera, info, raw, start))
    wait_drained(fanout)
    recorder.stop()


def counts(engine) -> tuple[int, int, int]:
    with session_scope(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(BookmarkRow)),
            session.scalar(select(func.count()).select_from(BookmarkLinkRow)),
            session.scalar(select(func.count()).select_from(AuditEntry)),
        )


def add(engine, principal=INSPECTOR, **changes):
    values = {
        "camera_id": "cam1",
        "start_utc": T0 + 1.0,
        "end_utc": T0 + 3.0,
        "title": "宣告时未宣读权利义务",
        "note": "矫正对象未签字",
        "category": "announcement",
    }
    values.update(changes)
    return evidence_marks.add_bookmark(engine, SITE, principal, **values)


def test_bookmarks_add_edit_delete_link_all_audited(pg_engine, recordings_dir):
    record(pg_engine, recordings_dir)
    span = add(pg_engine)
    instant = add(pg_engine, SUPERVISOR, start_utc=T0 + 4.0, end_utc=None, title="制服", category="dress")
    assert instant.is_instant and not span.is_instant and len(span.id) == 32
    assert [b.id for b in bookmarks_between(pg_engine, "cam1", T0, T0 + 10)] == [span.id, instant.id]
    assert bookmarks_between(pg_engine, "cam1", T0 + 3.5, T0 + 3.9) == []  # neither touches that

    edited = evidence_marks.edit_bookmark(pg_engine, INSPECTOR, span.id, title="宣告不规范", category="other")
    assert (edited.title, edited.category, edited.note, edited.updated_by) == (
        "宣告不规范",
        "other",
        span.note,
        "inspector-li",
    )
    with pytest.raises(evidence_marks.Refused, match="its author"):
        evidence_marks.edit_bookmark(pg_engine, SUPERVISOR, span.id, title="改")  # not the author
    evidence_marks.edit_bookmark(pg_engine, ADMIN, span.id, note="管理员补充")

    link_bookmark(pg_engine, span.id, "incident", "INC-7", user="command")
    link_bookmark(pg_engine, span.id, "incident", "INC-7", user="command")  # once is enough
    link_bookmark(pg_engine, instant.id, "rollcall", "RC-2026-12-04-1", user="sup-qinzhou")
    assert [b.id for b in bookmarks_for(pg_engine, "incident", "INC-7")] == [span.id]
    assert links_of(pg_engine, span.id) == [("incident", "INC-7")]
    with pytest.raises(BookmarkError, match="links to one of"):
        link_bookmark(pg_engine, span.id, "case", "1", user="command")

    evidence_marks.delete_bookmark(pg_engine, SUPERVISOR, instant.id)
    assert [b.id for b in bookmarks_between(pg_engine, "cam1", T0, T0 + 10)] == [span.id]
    assert bookmarks_for(pg_engine, "rollcall", "RC-2026-12-04-1") == []  # a deleted one is not offered
    assert links_of(pg_engine, instant.id) == [("rollcall", "RC-2026-12-04-1")]  # the record stays

    entries = list(reversed(list_entries(pg_engine, limit=20)))
    assert [(e.action, e.actor) for e in entries] == [
        ("bookmark_add", "inspector-li"),
        ("bookmark_add", "sup-qinzhou"),
        ("bookmark_edit", "inspector-li"),
        ("bookmark_edit", "admin"),
        ("bookmark_link", "command"),
        ("bookmark_link", "sup-qinzhou"),
        ("bookmark_delete", "sup-qinzhou"),
    ]
    assert json.loads(entries[2].detail) == {
        "bookmark_id": span.id,
        "before": {"title": "宣告时未宣读权利义务", "category": "announcement"},
        "after": {"title": "宣告不规范", "category": "other"},
    }
    assert verify_chain(pg_engine) == []

    # searchable by county, camera, author, category and dates; only what the user may see
    search = evidence_marks.search_bookmarks
    assert [b.id for b in search(pg_engine, SITE, INSPECTOR, county="qinzhou")] == [span.id]
    assert search(pg_engine, SITE, INSPECTOR, author="sup-qinzhou") == []  # deleted
    assert search(pg_engine, SITE, INSPECTOR, category="announcement") == []  # edited to other
    assert [b.id for b in search(pg_engine, SITE, INSPECTOR, category="other", camera_id="cam1")] == [span.id]
    assert search(pg_engine, SITE, INSPECTOR, from_utc=T0 + 3.5) == []
    assert [b.id for b in search(pg_engine, SITE, INSPECTOR, from_utc=T0, to_utc=T0 + 2)] == [span.id]
    assert search(pg_engine, SITE, MAIJI_INSPECTOR) == []
    with pytest.raises(evidence_marks.Refused, match="qinzhou"):
        search(pg_engine, SITE, MAIJI_INSPECTOR, county="qinzhou")


@pytest.mark.parametrize(
    ("principal", "changes", "message"),
    [
        (INSPECTOR, {"start_utc": T0 + 3.0, "end_utc": T0 + 1.0}, "comes before its start"),
        (INSPECTOR, {"start_utc": T0 + 100, "end_utc": T0 + 200}, "no recording"),
        (INSPECTOR, {"camera_id": "cam2"}, "no recording"),  # cam2 recorded nothing
        (INSPECTOR, {"camera_id": "nowhere"}, "unknown camera"),
        (MAIJI_INSPECTOR, {}, "may not bookmark camera cam1 of centre qinzhou"),
        (Principal("sup-maiji", "county_supervisor", ("maiji",)), {}, "may not bookmark"),
        (Principal("command", "city_command"), {}, "may not bookmark"),
        (INSPECTOR, {"title": "  "}, "needs a title"),
        (INSPECTOR, {"category": "宣告不规范"}, "is not one of"),
        (INSPECTOR, {"note": "x" * 5000}, "at most"),
    ],
)
def test_bad_bookmarks_are_refused_and_write_nothing(pg_engine, recordings_dir, principal, changes, message):
    record(pg_engine, recordings_dir, seconds=4.0)
    before = counts(pg_engine)
    with pytest.raises((BookmarkError, evidence_marks.Refused), match=message):
        add(pg_engine, principal, **changes)
    assert counts(pg_engine) == before


def test_export_carries_bookmarks_signed_and_verify_names_an_edited_one(engine, recordings_dir, tmp_path):
    record(engine, recordings_dir)
    inside = add(engine, start_utc=T0 + 2.0, end_utc=T0 + 2.5)
    add(engine, start_utc=T0 + 5.5, end_utc=None, title="outside")  # after the exported span
    key = load_or_create_signing_key(tmp_path / "data")
    out = tmp_path / "evidence.zip"
    result = export_clip(
        engine,
        recordings_dir,
        "cam1",
        T0 + 1.5,
        T0 + 4.5,
        out,
        signing_key=key,
        zone=ZONE,
        user="inspector-li",
    )
    (entry,) = result.manifest["bookmarks"]
    assert entry["id"] == inside.id and entry["title"] == inside.title and entry["category"] == "announcement"
    assert entry["start"]["local"] == "2026-09-21T22:13:22.000+08:00"
    trusted = {fingerprint(key)}
    assert verify_package(out, trusted) == []

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as original, zipfile.ZipFile(tampered, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == MANIFEST_NAME:
                manifest = json.loads(data)
                manifest["bookmarks"][0]["title"] = "无异常"
                data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
            copy.writestr(item, data)
    problems = verify_package(tampered, trusted)
    assert [(p.kind, p.subject) for p in problems] == [("manifest", MANIFEST_NAME), ("bookmark", inside.id)]
    assert "'无异常' was edited after signing" in str(problems[1])


SITE_YAML = """\
centres:
  - code: qinzhou
    name: 秦州区
    level: county
    rooms:
      - code: announce
        name: 宣告室
        cameras:
          - {id: cam1, name: 宣告台, rtsp: 'rtsp://127.0.0.1:9/none'}
"""


def test_watchwall_bookmark_cli_adds_lists_edits_and_deletes_as_an_account(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'watchwall.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        record(engine, data_dir / "recordings")
        add_user(engine, "inspector-li", "correct horse battery", "inspector", [], {"qinzhou"})
        add_user(
            engine, "sup-maiji", "correct horse battery", "county_supervisor", ["maiji"], {"qinzhou", "maiji"}
        )
    finally:
        engine.dispose()
    site = tmp_path / "site.yaml"
    site.write_text(SITE_YAML, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHWALL_")}
    env.update(WATCHWALL_DATA_DIR=str(data_dir), WATCHWALL_SITE=str(site))

    def watchwall(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "watchwall.roles.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    at = datetime.fromtimestamp(T0 + 2, UTC).isoformat()
    mark = ("bookmark", "add", "--camera", "cam1", "--at", at, "--title", "着装", "--category", "dress")
    unknown = watchwall(*mark, "--user", "nobody")
    assert unknown.returncode != 0 and "no active dashboard account 'nobody'" in unknown.stderr
    other_county = watchwall(*mark, "--user", "sup-maiji")
    assert (
        other_county.returncode != 0
        and "may not bookmark camera cam1 of centre qinzhou" in other_county.stderr
    )
    both = watchwall(*mark, "--from", at, "--user", "inspector-li")
    assert both.returncode != 0 and "either --at or --from/--to" in both.stderr
    added = watchwall(*mark, "--note", "未穿制服", "--user", "inspector-li")
    assert added.returncode == 0, added.stderr
    bookmark_id = added.stdout.split()[1]

    listed = watchwall(
        "bookmark", "list", "--county", "qinzhou", "--category", "dress", "--json", "--user", "inspector-li"
    )
    assert listed.returncode == 0, listed.stderr
    (found,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (found["id"], found["note"], found["start_utc"], found["end_utc"]) == (
        bookmark_id,
        "未穿制服",
        T0 + 2,
        T0 + 2,
    )
    assert (
        watchwall(
            "bookmark", "edit", bookmark_id, "--title", "未按规定着装", "--user", "inspector-li"
        ).returncode
        == 0
    )
    assert watchwall("bookmark", "delete", bookmark_id, "--user", "inspector-li").returncode == 0
    empty = watchwall("bookmark", "list", "--user", "inspector-li")
    assert (empty.returncode, empty.stdout.strip()) == (0, "no bookmarks")
    engine = make_engine(url)
    try:
        actions = [(e.action, e.address) for e in reversed(list_entries(engine, limit=10))]
    finally:
        engine.dispose()
    assert actions == [("bookmark_add", "cli"), ("bookmark_edit", "cli"), ("bookmark_delete", "cli")]
