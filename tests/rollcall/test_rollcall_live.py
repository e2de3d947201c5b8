"""A roll-call against real GStreamer cameras, a real ``watchwall serve`` (recording) and Chromium.

City command calls three county centres from the wall: qinzhou's duty officer answers 到 in front
of the face camera (passes), maiji's in front of an empty room (fails, an incident), qingshui does
not answer (fails at the countdown, an incident). The wall shows the three live, green and red.
A centre with no roll-call camera is refused by name; another county's answer and a late answer
change nothing; the answers, the start and a viewed clip are audited; inspectors read the history.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.dashboard.conftest import ARTIFACTS, login_as
from tests.support.rtsp_process import RtspServerProcess, wait_until
from tests.video.analysis.face_media import empty_room, face_scene, write_h264

pytestmark = [pytest.mark.browser, pytest.mark.rtsp, pytest.mark.slow]

VIEWPORT = {"width": 1920, "height": 1080}
COUNTDOWN_S = 25
AFTER_ANSWER_S = 4


@pytest.fixture(scope="module")
def cameras(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rollcall-cameras")
    # the face-presence tests' cameras: scikit-image's astronaut photograph and an empty room, drifting
    face = write_h264(folder / "face.h264", face_scene(640, 360), seconds=6)
    empty = write_h264(folder / "empty.h264", empty_room(640, 360), seconds=6)
    server = RtspServerProcess({"/face": f"file:{face}", "/empty": f"file:{empty}", "/plain": "h264"}).start()
    yield server
    server.kill()


def site_file(folder: Path, cameras: RtspServerProcess) -> Path:
    centres = [
        ("tianshui", "city", "command", "monitoring", [("tianshui-hall", "/plain", False)]),
        ("qinzhou", "county", "checkin", None, [("qinzhou-desk", "/plain", False), ("qinzhou-duty", "/face", True)]),
        ("maiji", "county", "duty", "monitoring", [("maiji-duty", "/empty", False)]),
        ("qingshui", "county", "checkin", None, [("qingshui-duty", "/plain", True)]),
        ("qinan", "county", "checkin", None, [("qinan-desk", "/plain", False)]),  # no roll-call camera
    ]  # fmt: skip
    names = {
        "qinzhou": "秦州区",
        "maiji": "麦积区",
        "qingshui": "清水县",
        "qinan": "秦安县",
        "tianshui": "天水市",
    }
    lines = ["centres:"]
    for code, level, room, kind, places in centres:
        lines += [
            f"  - code: {code}",
            f"    name: {{zh: {names[code]}中心, en: {code.title()} Centre}}",
            f"    short_name: {{zh: {names[code]}, en: {code.title()}}}",
            f"    level: {level}",
            "    rooms:",
            f"      - code: {room}",
            "        name: {zh: 值班室, en: Duty room}",
        ]
        if kind:
            lines.append(f"        kind: {kind}")
        lines.append("        cameras:")
        for camera_id, path, marked in places:
            lines += [
                f"          - id: {camera_id}",
                f"            name: {camera_id}",
                f"            rtsp: {cameras.url(path)}",
            ]
            if marked:
                lines.append("            rollcall: true")
    path = folder / "site.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory, cameras, served_factory):
    folder = tmp_path_factory.mktemp("rollcall-live")
    database = f"sqlite:///{folder / 'watchwall.db'}"
    server = served_factory(
        folder,
        {
            "WATCHWALL_DATABASE_URL": database,
            "WATCHWALL_SITE": str(site_file(folder, cameras)),
            "WATCHWALL_RECORDING_SEGMENT_S": "2",  # the clip is playable (its segment closed) soon after it ends
            "WATCHWALL_ROLLCALL": json.dumps(
                {
                    "countdown_s": COUNTDOWN_S,
                    "after_answer_s": AFTER_ANSWER_S,
                    "tick_s": 0.3,
                    "recording_grace_s": 20,
                }
            ),
        },
        users=("command", "sup-qinzhou", "sup-maiji", "sup-qingshui", "inspector"),
    )
    server.start()
    engine = create_engine(database)
    yield {"server": server, "engine": engine, "folder": folder}
    engine.dispose()
    server.stop()


def screenshot(page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / name))
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / name))


def rows(engine, sql: str, **params) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(sql), params)]


def calls_of(engine) -> dict[str, dict]:
    return {row["county"]: row for row in rows(engine, "SELECT * FROM rollcall_calls ORDER BY id")}


def emit(page, event: str, payload: dict) -> dict:
    return page.evaluate(
        "([event, payload]) => new Promise(done => window.watchwallSocket.emit(event, payload, done))",
        [event, payload],
    )


def open_page(browser, server, user: str, path: str):
    context = login_as(browser, server, user, viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{server.url}{path}")
    page.wait_for_function("() => window.watchwallSocket && window.watchwallSocket.connected", timeout=30_000)
    return context, page


def test_a_roll_call_of_three_centres(world, browser):
    server, engine, folder = world["server"], world["engine"], world["folder"]
    wall_context, wall = open_page(browser, server, "command", "/wall?lang=en")
    qinzhou_context, qinzhou = open_page(browser, server, "sup-qinzhou", "/centres/qinzhou?lang=en")
    maiji_context, maiji = open_page(browser, server, "sup-maiji", "/centres/maiji?lang=en")
    qingshui_context, qingshui = open_page(
        browser, server, "sup-qingshui", "/centres/qingshui"
    )  # the site's default: zh-CN
    try:
        # the segments of every camera are being written before the call
        wait_until(
            lambda: (
                len(rows(engine, "SELECT DISTINCT camera_id FROM recording_segments WHERE status = 'closed'"))
                >= 4
            ),
            60,
            0.5,
            "recordings of the cameras",
        )
        wall.wait_for_selector("#rollcall-centres", timeout=30_000)

        # a centre with no roll-call camera: refused with the centre named, nothing called
        wall.check("#rollcall-centres input[value=qinan]")
        wall.check("#rollcall-centres input[value=qinzhou]")
        wall.click("#rollcall-start")
        refused = wall.wait_for_selector(".rollcall-refused", timeout=15_000).inner_text()
        assert "秦安县" in refused and "qinan" in refused and "no roll-call camera" in refused
        assert rows(engine, "SELECT * FROM rollcall_calls") == []
        wall.uncheck("#rollcall-centres input[value=qinan]")

        for code in ("maiji", "qingshui"):
            wall.check(f"#rollcall-centres input[value={code}]")
        wall.click("#rollcall-start")
        wall.wait_for_selector(".rollcall-started", timeout=15_000)
        called = calls_of(engine)
        assert {county: call["camera_id"] for county, call in called.items()} == {
            "qinzhou": "qinzhou-duty",
            "maiji": "maiji-duty",
            "qingshui": "qingshui-duty",
        }
        # the wall shows the three called cameras live
        wall.wait_for_function(
            "() => document.querySelectorAll('#rollcall-board .rollcall-tile').length === 3"
        )
        wall.wait_for_function(
            "() => [...document.querySelectorAll('#rollcall-board .rollcall-tile video')]"
            ".every(v => v.readyState >= 2 && v.videoWidth > 0)",
            timeout=30_000,
        )
        screenshot(wall, folder, "rollcall-wall-called.png")

        # each called centre's page shows the prompt with its countdown
        for page in (qinzhou, maiji, qingshui):
            page.wait_for_selector("#rollcall-prompt .rollcall-answer", timeout=15_000)
            left = int(page.inner_text("#rollcall-prompt .rollcall-countdown"))
            assert 0 < left <= COUNTDOWN_S
        screenshot(qinzhou, folder, "rollcall-centre-prompt.png")
        assert qingshui.inner_text("#rollcall-prompt .rollcall-answer") == "到"
        assert "视频点名" in qingshui.inner_text("#rollcall-prompt")
        screenshot(qingshui, folder, "rollcall-centre-prompt-zh.png")

        # another county's supervisor answering qinzhou's call changes nothing
        refusal = emit(maiji, "rollcall.answer", {"id": called["qinzhou"]["id"]})
        assert refusal["ok"] is False and "not recorded" in refusal["error"]
        assert calls_of(engine)["qinzhou"]["state"] == "called"

        time.sleep(2)
        qinzhou.click("#rollcall-prompt .rollcall-answer")
        maiji.click("#rollcall-prompt .rollcall-answer")
        wait_until(
            lambda: all(calls_of(engine)[c]["answered_at"] is not None for c in ("qinzhou", "maiji")),
            10,
            0.2,
            "both answers",
        )
        qinzhou.wait_for_selector("#rollcall-prompt .rollcall-answer", state="detached", timeout=10_000)

        # verdicts: the face passes, the empty room fails, the silent centre fails at its countdown
        decided = wait_until(
            lambda: (c := calls_of(engine)) and all(c[k]["state"] in ("passed", "failed") for k in c) and c,
            COUNTDOWN_S + 40,
            0.5,
            "three verdicts",
        )
        started = called["qinzhou"]["called_at"]
        assert (decided["qinzhou"]["state"], decided["qinzhou"]["face_present"]) == ("passed", 1)
        assert decided["qinzhou"]["frames_with_face"] > 0
        assert (decided["maiji"]["state"], decided["maiji"]["reason"]) == ("failed", "no_face")
        assert decided["maiji"]["frames_checked"] > 0 and decided["maiji"]["frames_with_face"] == 0
        assert (decided["qingshui"]["state"], decided["qingshui"]["reason"]) == ("failed", "no_answer")
        assert decided["qingshui"]["answered_at"] is None
        assert started is not None
        # a failed verdict is stored first, its incident opened just after it
        incidents = wait_until(
            lambda: (
                (
                    found := rows(
                        engine, "SELECT * FROM incidents WHERE kind = 'rollcall_failed' ORDER BY county"
                    )
                )
                and len(found) >= 2
                and found
            ),
            15,
            0.2,
            "both roll-call incidents",
        )
        assert [(i["county"], i["camera_id"]) for i in incidents] == [
            ("maiji", "maiji-duty"),
            ("qingshui", "qingshui-duty"),
        ]
        # each failed call is linked to its incident after the incident is opened
        linked = wait_until(
            lambda: (
                (c := calls_of(engine)) and c["maiji"]["incident_id"] and c["qingshui"]["incident_id"] and c
            ),
            15,
            0.2,
            "the failed calls linked to their incidents",
        )
        assert {linked[c]["incident_id"] for c in ("maiji", "qingshui")} == {i["id"] for i in incidents}
        assert linked["qinzhou"]["incident_id"] is None

        # the wall: green for qinzhou, red for the others
        wall.wait_for_function(
            "() => { const s = c => document.querySelector(`#rollcall-board .rollcall-tile[data-county=${c}]`)"
            "?.getAttribute('data-state');"
            " return s('qinzhou') === 'passed' && s('maiji') === 'failed' && s('qingshui') === 'failed'; }",
            timeout=15_000,
        )
        colours = wall.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('#rollcall-board .rollcall-tile')]"
            ".map(t => [t.dataset.county, getComputedStyle(t).borderTopColor]))"
        )
        assert colours["qinzhou"] == "rgb(46, 204, 113)"
        assert colours["maiji"] == colours["qingshui"] == "rgb(231, 76, 60)"
        wall.wait_for_function(
            "() => document.getElementById('rollcall-figures').dataset.failedToday === '2'"
        )
        screenshot(wall, folder, "rollcall-wall-verdicts.png")

        # a late answer changes nothing
        late = emit(qingshui, "rollcall.answer", {"id": called["qingshui"]["id"]})
        assert late["ok"] is False and "countdown ended" in late["error"]
        assert calls_of(engine)["qingshui"]["answered_at"] is None

        # every clip is bookmarked once recorded, linked to its roll-call
        wait_until(
            lambda: all(call["bookmark_id"] for call in calls_of(engine).values()),
            40,
            0.5,
            "the clips' bookmarks",
        )
        links = rows(engine, "SELECT ref FROM bookmark_links WHERE kind = 'rollcall'")
        assert sorted(int(link["ref"]) for link in links) == sorted(call["id"] for call in called.values())

        audit = rows(
            engine, "SELECT action, actor, target FROM audit_log WHERE action LIKE 'rollcall.%' ORDER BY id"
        )
        actions = [(row["action"], row["actor"]) for row in audit]
        assert ("rollcall.start", "command") in actions
        assert ("rollcall.answer", "sup-qinzhou") in actions and ("rollcall.answer", "sup-maiji") in actions
        assert ("rollcall.answer_refused", "sup-maiji") in actions
        assert ("rollcall.answer_refused", "sup-qingshui") in actions
    finally:
        for context in (wall_context, qinzhou_context, maiji_context, qingshui_context):
            context.close()


def test_inspectors_read_the_history_and_each_viewed_clip_is_audited(world, browser):
    server, engine, folder = world["server"], world["engine"], world["folder"]
    calls = calls_of(engine)
    assert len(calls) == 3, "runs after the roll-call of three centres"
    context, page = open_page(browser, server, "inspector", "/rollcall?lang=en")
    try:
        assert page.query_selector("#rollcall-start") is None  # inspectors read only
        page.wait_for_function(
            "() => document.querySelectorAll('.rollcall-row').length === 3", timeout=15_000
        )
        row = page.query_selector(f".rollcall-row[data-call='{calls['qinzhou']['id']}']")
        assert "Passed" in row.inner_text()
        recordings = row.query_selector(".rec-link").get_attribute("href")
        assert recordings.startswith("/recordings?camera=qinzhou-duty&day=")
        clip = row.query_selector(".clip-link").get_attribute("href")
        response = page.request.get(f"{server.url}{clip}")
        assert response.status == 200 and response.headers["content-type"] == "video/mp4"
        assert len(response.body()) > 10_000
        viewed = rows(engine, "SELECT actor, detail FROM audit_log WHERE action = 'rollcall.clip_view'")
        assert [v["actor"] for v in viewed] == ["inspector"]
        assert json.loads(viewed[0]["detail"])["call_id"] == calls["qinzhou"]["id"]
        # filtered by result
        page.click("#rollcall-filter-result")
        page.click("text=Failed: no face")
        page.wait_for_function(
            "() => document.querySelectorAll('.rollcall-row').length === 1", timeout=15_000
        )
        assert page.query_selector(f".rollcall-row[data-call='{calls['maiji']['id']}']") is not None
        screenshot(page, folder, "rollcall-history.png")
    finally:
        context.close()
    # a county supervisor sees only their county's roll-calls, and no other county's clip
    context, page = open_page(browser, server, "sup-maiji", "/rollcall?lang=en")
    try:
        page.wait_for_function(
            "() => document.querySelectorAll('.rollcall-row').length === 1", timeout=15_000
        )
        assert page.query_selector(".rollcall-row").get_attribute("data-county") == "maiji"
        other = page.request.get(f"{server.url}/rollcall/calls/{calls['qinzhou']['id']}/clip")
        assert other.status == 404
    finally:
        context.close()
