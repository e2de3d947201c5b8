"""/recordings/play, /seek and /export against a real ``watchwall serve`` holding real recorded segments."""

from __future__ import annotations

import io
import json
import time as pytime
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from tests.video.record.recording_media import feed, h264_clip, media_packets, wait_drained  # noqa: E402
from watchwall.audit.listing import list_entries  # noqa: E402
from watchwall.config.database import make_engine  # noqa: E402
from watchwall.config.settings import Settings  # noqa: E402
from watchwall.video.ingest.fanout import Fanout  # noqa: E402
from watchwall.video.record.playback import segments_between  # noqa: E402
from watchwall.video.record.recorder import Recorder  # noqa: E402

CAMERA = "qinzhou-announcement-1"  # a camera of the Qinzhou centre in the shipped site
BLOCK_S = 6.0
GAP_S = 10.0


@dataclass(frozen=True)
class Recorded:
    camera: str
    start_utc: float  # first block: [start, start + BLOCK_S)
    resume_utc: float  # second block, after a gap of GAP_S

    def iso(self, epoch: float) -> str:
        return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def record_with_gap(data_dir: Path, camera: str = CAMERA) -> Recorded:
    """Two blocks of real H.264 recorded by the real Recorder into the served instance, a stall between them.

    Dated 09:00 local today, so the page's default day shows them. Recorded once per served
    instance (it is shared by the test session).
    """
    zone = Settings().zone
    local_today = datetime.now(UTC).astimezone(zone).date()
    start = datetime.combine(local_today, time(9), zone).timestamp()
    resume = start + BLOCK_S + GAP_S
    engine = make_engine(f"sqlite:///{data_dir / 'watchwall.db'}")
    try:
        if segments_between(engine, camera, start, resume + BLOCK_S):
            return Recorded(camera, start, resume)
        info, raw = h264_clip(BLOCK_S)
        fanout = Fanout(camera)
        recorder = Recorder(camera, fanout, engine, data_dir / "recordings", segment_seconds=2).start()
        feed(fanout, media_packets(camera, info, raw, start))
        feed(fanout, media_packets(camera, info, raw, resume, dts_offset=round((resume - start) * 90000)))
        wait_drained(fanout)
        recorder.stop()
    finally:
        engine.dispose()
    return Recorded(camera, start, resume)


def served_engine(served):
    return make_engine(f"sqlite:///{Path(served.env['WATCHWALL_DATA_DIR']) / 'watchwall.db'}")


def audit_rows(served, action: str, actor: str) -> list:
    engine = served_engine(served)
    try:
        return list_entries(engine, action=action, actor=actor, limit=500)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def recorded(served) -> Recorded:
    return record_with_gap(Path(served.env["WATCHWALL_DATA_DIR"]))


@pytest.fixture
def inspector(served, recorded, http_login):
    return http_login(served, "inspector")


def play_url(served, recorded: Recorded, start: float | None = None, end: float | None = None) -> str:
    start = recorded.start_utc if start is None else start
    end = recorded.resume_utc + BLOCK_S if end is None else end
    return f"{served.url}/recordings/play/{recorded.camera}?from={recorded.iso(start)}&to={recorded.iso(end)}"


def test_playback_serves_byte_ranges_of_the_same_file(served, recorded, inspector):
    before = len(audit_rows(served, "playback", "inspector"))
    full = inspector.get(play_url(served, recorded), timeout=60)
    assert full.status_code == 200, full.text
    assert full.headers["Content-Type"] == "video/mp4"
    assert full.headers["Accept-Ranges"] == "bytes"
    body = full.content
    assert int(full.headers["Content-Length"]) == len(body) > 10_000
    assert body[4:8] == b"ftyp"

    part = inspector.get(play_url(served, recorded), headers={"Range": "bytes=100-4099"}, timeout=60)
    assert part.status_code == 206
    assert part.content == body[100:4100]
    assert part.headers["Content-Range"] == f"bytes 100-4099/{len(body)}"
    assert part.headers["Content-Length"] == "4000"

    tail = inspector.get(play_url(served, recorded), headers={"Range": "bytes=-500"}, timeout=60)
    assert tail.status_code == 206 and tail.content == body[-500:]

    outside = inspector.get(play_url(served, recorded), headers={"Range": f"bytes={len(body)}-"}, timeout=60)
    assert outside.status_code == 416
    assert outside.headers["Content-Range"] == f"bytes */{len(body)}"

    # Audited once per playback: the request from byte 0, not every range the player asks for.
    rows = audit_rows(served, "playback", "inspector")
    assert len(rows) == before + 1
    assert rows[0].target == recorded.camera and rows[0].address == "127.0.0.1"


def test_seek_answers_from_the_index(served, recorded, inspector):
    inside = inspector.get(
        f"{served.url}/recordings/seek/{recorded.camera}?at={recorded.iso(recorded.start_utc + 3.5)}",
        timeout=30,
    )
    assert inside.status_code == 200
    answer = inside.json()
    assert answer["recorded"] is True and 0 <= answer["offset_s"] < 2.5

    in_gap = inspector.get(
        f"{served.url}/recordings/seek/{recorded.camera}?at={recorded.iso(recorded.start_utc + BLOCK_S + 5)}",
        timeout=30,
    ).json()
    assert in_gap["recorded"] is False
    assert in_gap["gap_reason"] == "stalled"
    resumes = datetime.fromisoformat(in_gap["next_start"].replace("Z", "+00:00")).timestamp()
    assert resumes == pytest.approx(recorded.resume_utc, abs=0.05)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=yesterday&to=2026-01-01T00:00:00Z", "ISO 8601"),
        ("to=2026-01-01T00:00:00Z", "'from' is required"),
        ("from=2026-01-01T10:00:00Z&to=2026-01-01T10:00:00Z", "'to' must come after 'from'"),
        ("from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:01Z", "at most 24 hours"),
    ],
)
def test_bad_spans_are_refused_with_a_clear_400(served, recorded, inspector, query, message):
    answer = inspector.get(f"{served.url}/recordings/play/{recorded.camera}?{query}", timeout=30)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_a_span_without_recording_is_404(served, recorded, inspector):
    answer = inspector.get(
        play_url(served, recorded, recorded.start_utc - 3600, recorded.start_utc - 1800), timeout=30
    )
    assert answer.status_code == 404
    assert "no recording" in answer.json()["error"]


def test_unknown_camera_is_404(served, recorded, inspector):
    span = f"from={recorded.iso(recorded.start_utc)}&to={recorded.iso(recorded.start_utc + 5)}"
    for url in (
        f"/recordings/play/no-such-camera?{span}",
        "/recordings/seek/no-such-camera?at=2026-01-01T00:00:00Z",
    ):
        assert inspector.get(f"{served.url}{url}", timeout=30).status_code == 404, url


@pytest.mark.parametrize("camera", ["..%2F..%2Fwatchwall.db", "%2E%2E", "..", "qinzhou-announcement-1%00"])
def test_path_tricks_never_reach_a_file(served, recorded, inspector, camera):
    span = f"from={recorded.iso(recorded.start_utc)}&to={recorded.iso(recorded.start_utc + 5)}"
    for url in (f"/recordings/play/{camera}?{span}", f"/recordings/seek/{camera}?at=2026-01-01T00:00:00Z"):
        answer = inspector.get(f"{served.url}{url}", timeout=30)
        # 404 from the route, or Dash's page shell for a path no route matches: never a file
        assert answer.status_code in (404, 200), url
        assert not answer.headers["Content-Type"].startswith(("video/", "application/json")) or (
            answer.status_code == 404
        ), url
        assert b"SQLite format" not in answer.content and b"ftyp" not in answer.content[:16]


@pytest.mark.parametrize("username", ["sup-maiji", "command"])
def test_other_roles_and_counties_are_refused(served, recorded, http_login, username):
    session = http_login(served, username)
    span = f"from={recorded.iso(recorded.start_utc)}&to={recorded.iso(recorded.start_utc + 5)}"
    for headers in ({}, {"Range": "bytes=0-99"}):
        answer = session.get(
            f"{served.url}/recordings/play/{recorded.camera}?{span}", headers=headers, timeout=30
        )
        assert answer.status_code == 403 and b"ftyp" not in answer.content and b"moof" not in answer.content
    assert session.get(f"{served.url}/recordings/seek/{recorded.camera}?at=x", timeout=30).status_code == 403
    export = session.post(
        f"{served.url}/recordings/export",
        data={"camera": recorded.camera, "from": "x", "to": "y", "reason": "look"},
        headers={"Origin": served.url},
        timeout=30,
    )
    assert export.status_code == 403
    assert not audit_rows(served, "playback", username)


def test_a_supervisor_plays_their_own_county_but_does_not_export_by_default(served, recorded, http_login):
    session = http_login(served, "sup-qinzhou")
    answer = session.get(play_url(served, recorded), headers={"Range": "bytes=0-"}, timeout=60)
    assert answer.status_code == 206 and answer.content[4:8] == b"ftyp"
    seek = session.get(
        f"{served.url}/recordings/seek/{recorded.camera}?at={recorded.iso(recorded.start_utc + 1)}",
        timeout=30,
    )
    assert seek.status_code == 200 and seek.json()["recorded"] is True
    (row, *_) = audit_rows(served, "playback", "sup-qinzhou")
    assert row.target == recorded.camera
    export = session.post(
        f"{served.url}/recordings/export",
        data=export_form(recorded, "look"),
        headers={"Origin": served.url},
        timeout=60,
    )
    assert export.status_code == 403 and b"PK" not in export.content[:2]


def test_who_may_export_follows_the_setting():
    from watchwall.dashboard import access
    from watchwall.dashboard.accounts import Principal

    def principal(role, counties):
        return Principal(username=role, role=role, counties=tuple(counties))

    supervisor = principal("county_supervisor", ["qinzhou"])
    assert access.can_see_recordings(supervisor, "qinzhou") and not access.can_see_recordings(
        supervisor, "maiji"
    )
    assert not access.can_export(supervisor, "qinzhou")
    assert access.can_export(supervisor, "qinzhou", supervisors_may_export=True)
    assert not access.can_export(supervisor, "maiji", supervisors_may_export=True)
    assert not access.can_lock(supervisor, "qinzhou")
    assert access.can_export(principal("inspector", []), "maiji")
    assert not access.can_see_recordings(principal("city_command", []), "qinzhou")


def test_logged_out_is_refused(served, recorded):
    import requests

    answer = requests.get(play_url(served, recorded), timeout=30)
    assert answer.status_code == 401


def export_form(recorded: Recorded, reason: str, **changes) -> dict:
    form = {
        "camera": recorded.camera,
        "from": recorded.iso(recorded.start_utc + 1),
        "to": recorded.iso(recorded.resume_utc + 3),
        "reason": reason,
    }
    form.update(changes)
    return form


def test_export_needs_a_reason_and_this_sites_origin(served, recorded, inspector):
    for reason in ("", "   "):
        answer = inspector.post(
            f"{served.url}/recordings/export",
            data=export_form(recorded, reason),
            headers={"Origin": served.url},
            timeout=60,
        )
        assert answer.status_code == 400
        assert "reason is required" in answer.json()["error"]
    as_page = inspector.post(
        f"{served.url}/recordings/export",
        data=export_form(recorded, ""),
        headers={"Origin": served.url, "Accept": "text/html"},
        timeout=60,
    )
    assert as_page.status_code == 400 and "reason is required" in as_page.text
    bad_time = inspector.post(
        f"{served.url}/recordings/export",
        data=export_form(recorded, "check", to="soon"),
        headers={"Origin": served.url},
        timeout=60,
    )
    assert bad_time.status_code == 400 and "'to'" in bad_time.json()["error"]
    cross_site = inspector.post(
        f"{served.url}/recordings/export",
        data=export_form(recorded, "check"),
        headers={"Origin": "http://evil.example"},
        timeout=60,
    )
    assert cross_site.status_code == 403


def test_export_downloads_a_package_that_watchwall_verify_accepts(served, recorded, inspector, tmp_path):
    reason = "核查宣告过程 / review of the announcement"
    answer = inspector.post(
        f"{served.url}/recordings/export",
        json=export_form(recorded, reason),
        headers={"Origin": served.url},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/zip"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"evidence-{recorded.camera}-" in disposition
    # named in the site's local time with its offset: 09:00:01 local is 01:00:01Z
    local_start = datetime.fromtimestamp(recorded.start_utc + 1, UTC).astimezone(Settings().zone)
    assert f'-{local_start:%Y%m%dT%H%M%S}+0800.zip"' in disposition, disposition
    package = tmp_path / "evidence.zip"
    package.write_bytes(answer.content)
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert {"clip.mp4", "manifest.json", "manifest.sig", "public_key.pem"} <= set(archive.namelist())
    verified = served.cli("verify", str(package))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    (row, *_) = audit_rows(served, "export", "inspector")
    assert row.target == recorded.camera and reason in row.detail
    leftovers = list(Path(served.env["WATCHWALL_DATA_DIR"]).glob("watchwall-export-*"))
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while leftovers and datetime.now(UTC) < deadline:  # removed once the response body is consumed
        pytime.sleep(0.1)
        leftovers = list(Path(served.env["WATCHWALL_DATA_DIR"]).glob("watchwall-export-*"))
    assert not leftovers


def replay_body(callback: dict, inputs: dict, states: dict) -> dict:
    """The request Dash's renderer would send for ``callback``, with the given values by property."""
    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1]}
        for part in callback["output"].strip(".").split("...")
        if "." in part
    ]
    return {
        "output": callback["output"],
        # as Dash's renderer sends them: one output as an object, several as a list
        "outputs": outputs[0] if len(outputs) == 1 and not callback["output"].startswith("..") else outputs,
        "inputs": [
            {"id": i["id"], "property": i["property"], "value": inputs.get(i["property"], 1)}
            for i in callback["inputs"]
        ],
        "state": [
            {"id": s["id"], "property": s["property"], "value": states.get(s["property"], "en")}
            for s in callback["state"]
        ],
        "changedPropIds": [f"{callback['inputs'][0]['id']}.{callback['inputs'][0]['property']}"],
    }


def test_page_callbacks_refuse_other_roles_and_answer_inspectors(served, recorded, inspector, http_login):
    """City command may use none of the page's callbacks; a supervisor of another county is refused
    every one driven by this county's camera (the page is theirs now, for their own county)."""
    callbacks = [
        c
        for c in inspector.get(f"{served.url}/_dash-dependencies", timeout=30).json()
        if "rec-" in c["output"]
    ]
    assert len(callbacks) >= 6
    headers = {"Origin": served.url, "Content-Type": "application/json"}
    command = http_login(served, "command")
    maiji = http_login(served, "sup-maiji")
    real = {"value": recorded.camera, "date": recorded.iso(recorded.start_utc)[:10], "n_clicks": 1}
    url = f"{served.url}/_dash-update-component"
    for callback in callbacks:
        names_camera = any(
            item["id"] == "rec-camera" and item["property"] == "value" for item in callback["inputs"]
        )
        for values in ({}, real):  # junk values, and the real camera of another county
            body = replay_body(callback, values, {})
            assert command.post(url, json=body, headers=headers, timeout=30).status_code == 403, callback[
                "output"
            ]
            if values is real and names_camera:
                refused = maiji.post(url, json=body, headers=headers, timeout=30)
                assert refused.status_code == 403, callback["output"]
            if "{" in callback["output"] or "@" in callback["output"]:
                continue  # wildcard or duplicate outputs: a replay cannot say which components they have
            answer = inspector.post(url, json=body, headers=headers, timeout=60)
            assert answer.status_code in (200, 204), (callback["output"], answer.text[:300])


def test_the_setting_lets_supervisors_export_their_own_county_only(
    tmp_path_factory, served_factory, http_login
):
    folder = tmp_path_factory.mktemp("supervisors-export")
    server = served_factory(
        folder, {"WATCHWALL_SUPERVISORS_MAY_EXPORT": "true"}, users=("sup-qinzhou", "sup-maiji")
    )
    recorded = record_with_gap(folder)
    server.start("--no-ingest", timeout=300)
    try:
        own = http_login(server, "sup-qinzhou").post(
            f"{server.url}/recordings/export",
            data=export_form(recorded, "county review"),
            headers={"Origin": server.url},
            timeout=120,
        )
        assert own.status_code == 200 and own.headers["Content-Type"] == "application/zip", own.text[:300]
        assert own.headers["Content-Disposition"].endswith('+0800.zip"')
        other = http_login(server, "sup-maiji").post(
            f"{server.url}/recordings/export",
            data=export_form(recorded, "not mine"),
            headers={"Origin": server.url},
            timeout=120,
        )
        assert other.status_code == 403 and not other.content.startswith(b"PK")
        (row, *_) = audit_rows(server, "export", "sup-qinzhou")
        assert row.target == recorded.camera and not audit_rows(server, "export", "sup-maiji")
    finally:
        server.stop()


def test_another_countys_bookmark_is_refused_by_id(served, recorded, http_login):
    """Edit and delete name a bookmark by id: one of another county is a 403, and stays as it was."""
    from watchwall.video.record.bookmarks import get_bookmark

    # Made by the served installation's own command, so its audit row is anchored with that
    # installation's key (a row written from this test process would carry another key).
    at = datetime.fromtimestamp(recorded.start_utc + 1, UTC).isoformat()
    made = served.cli(
        "bookmark",
        "add",
        "--camera",
        recorded.camera,
        "--at",
        at,
        "--title",
        "qinzhou only",
        "--category",
        "other",
        "--user",
        "inspector",
    )
    assert made.returncode == 0, made.stdout + made.stderr
    engine = served_engine(served)
    try:
        bookmark = get_bookmark(engine, made.stdout.split()[1])
    finally:
        engine.dispose()
    maiji = http_login(served, "sup-maiji")
    headers = {"Origin": served.url, "Content-Type": "application/json"}
    callbacks = maiji.get(f"{served.url}/_dash-dependencies", timeout=30).json()
    (delete,) = [c for c in callbacks if '"rec-bm-delete"' in c["inputs"][0]["id"]]
    outputs = [
        {"id": part.split(".")[0], "property": part.split(".", 1)[1]}
        for part in delete["output"].strip(".").split("...")
    ]
    pattern = {"id": bookmark.id, "type": "rec-bm-delete"}
    body = {
        "output": delete["output"],
        "outputs": outputs,
        "inputs": [[{"id": pattern, "property": "n_clicks", "value": 1}]],
        "state": [{"id": s["id"], "property": s["property"], "value": 0} for s in delete["state"]],
        "changedPropIds": [json.dumps(pattern, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
    }
    answer = maiji.post(f"{served.url}/_dash-update-component", json=body, headers=headers, timeout=30)
    assert answer.status_code == 403, answer.text[:300]
    engine = served_engine(served)
    try:
        assert get_bookmark(engine, bookmark.id).title == "qinzhou only"
    finally:
        engine.dispose()
