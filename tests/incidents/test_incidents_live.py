"""Incidents against real GStreamer cameras, a real ``watchwall serve`` and Chromium.

A camera killed opens an incident within 5 s; a camera flapping ten times is one incident with a
count of 10; recovered, it stays open; the county's supervisor acknowledges and closes it on the
county page (audit rows checked); another county's supervisor is refused; an overdue incident is
escalated to the wall, where city command acknowledges it; a missed check-in slot opens an incident
only once its window has closed.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import socketio
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.dashboard.conftest import ARTIFACTS, login_as
from tests.support.rtsp_process import RtspServerProcess, wait_until
from watchwall.metrics.models import LocationCheck, Subject

pytestmark = [pytest.mark.browser, pytest.mark.rtsp, pytest.mark.slow]

ZONE = ZoneInfo("Asia/Shanghai")
VIEWPORT = {"width": 1920, "height": 1080}
ACK_DEADLINE_S = 25
WINDOW_CLOSES_IN_S = 70  # the morning window of this test ends this long after the server starts


@pytest.fixture(scope="module")
def steady():
    server = RtspServerProcess({"/cam0": "h264", "/valve": "valve"}).start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def killable():
    server = RtspServerProcess({"/cam0": "h264"}).start()
    yield server
    server.kill()


def site_file(folder: Path, steady: RtspServerProcess, killable: RtspServerProcess) -> Path:
    cameras = {
        "tianshui": [("tianshui-cam0", steady.url("/cam0"))],
        "qinzhou": [("qinzhou-kill", killable.url("/cam0")), ("qinzhou-flap", steady.url("/valve"))],
        "maiji": [("maiji-cam0", steady.url("/cam0"))],
    }
    lines = ["centres:"]
    for centre, places in cameras.items():
        lines += [
            f"  - code: {centre}",
            f"    name: {{zh: {centre}中心, en: {centre.title()} Centre}}",
            f"    level: {'city' if centre == 'tianshui' else 'county'}",
            "    rooms:",
            "      - code: checkin",
            "        name: {zh: 报到登记室, en: Check-in room}",
            "        cameras:",
        ]
        for camera_id, url in places:
            lines += [
                f"          - id: {camera_id}",
                f"            name: {camera_id}",
                f"            rtsp: {url}",
            ]
    path = folder / "site.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def windows_closing_soon(now: datetime) -> tuple[dict, datetime]:
    local = now.astimezone(ZONE)
    morning_end = (local + timedelta(seconds=WINDOW_CLOSES_IN_S)).replace(microsecond=0)
    if morning_end.date() != local.date() or morning_end.hour >= 23 or local.hour < 1:
        pytest.skip("too close to local midnight for a window closing soon within one day")
    windows = {
        "morning": {"start": "00:30", "end": morning_end.strftime("%H:%M:%S")},
        "afternoon": {"start": (morning_end + timedelta(minutes=1)).strftime("%H:%M:%S"), "end": "23:59"},
    }
    return windows, morning_end


@pytest.fixture(scope="module")
def world(tmp_path_factory, steady, killable, served_factory):
    folder = tmp_path_factory.mktemp("incidents-live")
    windows, morning_end = windows_closing_soon(datetime.now(UTC))
    database = f"sqlite:///{folder / 'watchwall.db'}"
    server = served_factory(
        folder,
        {
            # named explicitly, so no demo data is loaded: the subjects below are the only ones
            "WATCHWALL_DATABASE_URL": database,
            "WATCHWALL_SITE": str(site_file(folder, steady, killable)),
            "WATCHWALL_CHECKIN_WINDOWS": json.dumps(windows),
            "WATCHWALL_INCIDENTS": json.dumps(
                {
                    "deadlines": {"default": {"acknowledge_s": ACK_DEADLINE_S, "close_s": 3600}},
                    "watch_interval_s": 1,
                    "batch_s": 0.2,
                }
            ),
        },
        users=("command", "sup-qinzhou", "sup-maiji"),
    )
    engine = create_engine(database)
    add_subjects(engine, morning_end.date())
    server.start("--no-record")
    time.sleep(4)  # the incident watch (every second) has looked at the windows a few times
    before = missed_slot_incidents(engine, morning_end) if datetime.now(UTC) < morning_end else None
    yield {
        "server": server,
        "engine": engine,
        "folder": folder,
        "morning_end": morning_end,
        "missed_before": before,
    }
    engine.dispose()
    server.stop()


def add_subjects(engine, today) -> None:
    """Three subjects of qinzhou under supervision today; one checks in this morning, two do not."""
    with Session(engine) as session, session.begin():
        for index, name in enumerate(("张三明", "李四", "王五福")):
            session.add(
                Subject(
                    id=index + 1,
                    external_id=f"S-{index + 1:04d}",
                    name=name,
                    county="qinzhou",
                    category="probation",
                    start_date=today - timedelta(days=30),
                    end_date=None,
                    supervision_level="ordinary",
                )
            )
        session.flush()
        checked = datetime.now(UTC) - timedelta(minutes=1)
        session.add(
            LocationCheck(
                external_id="chk-1",
                subject_id=1,
                county="qinzhou",
                checked_at=checked,
                local_day=today,
                slot="morning",
                method="dingtalk",
                result="ok",
            )
        )


def missed_slot_incidents(engine, morning_end: datetime) -> int:
    key = f"%:missed_checkin:{morning_end.date().isoformat()}:morning"
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM incidents WHERE problem_key LIKE :key"), {"key": key}
        ).scalar_one()


def screenshot(page, world, name: str) -> None:
    """At 1080p into the test's tmp dir, and a copy beside the suite's other screenshots."""
    page.screenshot(path=str(world["folder"] / name))
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / name))


def camera_incidents(engine, camera_id: str) -> list[dict]:
    """The camera's lost-video incidents (the test pattern, a ball on black, may rightly be "covered" too)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT * FROM incidents WHERE camera_id = :camera"
                " AND kind IN ('offline', 'stalled', 'video_loss') ORDER BY id"
            ),
            {"camera": camera_id},
        )
        return [dict(row._mapping) for row in rows]


def audit_rows(engine, incident_id: int) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [
            (row.action, row.actor)
            for row in connection.execute(
                text("SELECT action, actor FROM audit_log WHERE target = :target ORDER BY id"),
                {"target": f"incident:{incident_id}"},
            )
        ]


def cli_incidents(server, *args: str) -> list[dict]:
    result = server.cli("incidents", "list", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_killed_camera_opens_an_incident_within_5_s(world, killable):
    engine = world["engine"]
    time.sleep(8)  # the cameras connect and send video
    assert camera_incidents(engine, "qinzhou-kill") == []
    killed = time.monotonic()
    killable.kill()
    (incident,) = wait_until(lambda: camera_incidents(engine, "qinzhou-kill"), 15, 0.1, "the incident")
    assert time.monotonic() - killed < 5.0
    assert incident["county"] == "qinzhou" and incident["state"] == "open"
    assert incident["kind"] in ("offline", "stalled", "video_loss")
    listed = cli_incidents(world["server"], "--county", "qinzhou")
    assert any(row["id"] == incident["id"] and row["camera_id"] == "qinzhou-kill" for row in listed)
    assert {"id", "kind", "state", "county", "camera_id", "opened_at"} <= set(listed[0])


def test_flapping_ten_times_is_one_incident_that_stays_open_when_recovered(world, steady):
    engine = world["engine"]
    for flap in range(10):
        steady.stall("/valve")
        wait_until(
            lambda f=flap: [
                i
                for i in camera_incidents(engine, "qinzhou-flap")
                if i["count"] == f + 1 and i["recovered_at"] is None
            ],
            20,
            0.2,
            f"loss {flap + 1} counted",
        )
        steady.resume("/valve")
        wait_until(
            lambda: all(i["recovered_at"] is not None for i in camera_incidents(engine, "qinzhou-flap")),
            20,
            0.2,
            f"recovery {flap + 1}",
        )
    (incident,) = camera_incidents(engine, "qinzhou-flap")
    assert incident["count"] == 10 and incident["state"] == "open" and incident["recovered_at"] is not None
    actions = audit_rows(engine, incident["id"])
    assert actions[0] == ("incident.open", "system:incidents")
    assert {action for action, _ in actions} <= {"incident.open", "incident.escalate"}  # never opened twice


def test_the_county_supervisor_acknowledges_and_closes_it_on_the_county_page(world, browser):
    server, engine = world["server"], world["engine"]
    (incident,) = camera_incidents(engine, "qinzhou-flap")
    card = f".incident-card[data-incident='{incident['id']}']"
    context = login_as(browser, server, "sup-qinzhou", viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/centres/qinzhou?lang=en")
        page.wait_for_selector(card, timeout=30_000)
        page.click(f"{card} button.incident-acknowledge")
        page.wait_for_selector(f"{card}[data-state=acknowledged]", timeout=15_000)
        # closing without a reason is refused and changes nothing
        acknowledged = page.inner_text("#incident-panel-result")
        page.click(f"{card} button.incident-close")
        page.wait_for_function(
            f"() => document.getElementById('incident-panel-result').textContent !== {json.dumps(acknowledged)}",
            timeout=15_000,
        )
        assert "reason" in page.inner_text("#incident-panel-result")
        assert camera_incidents(engine, "qinzhou-flap")[0]["state"] == "acknowledged"
        page.click(f"{card} .incident-reason")
        page.click("text=Device fault reported for repair")
        page.fill(f"{card} .incident-note input", "换了网线")
        page.click(f"{card} button.incident-close")
        page.wait_for_selector(card, state="detached", timeout=15_000)
        screenshot(page, world, "county-page-incidents.png")
    finally:
        context.close()
    (closed,) = camera_incidents(engine, "qinzhou-flap")
    assert (closed["state"], closed["close_reason"], closed["close_note"]) == (
        "closed",
        "device_repaired",
        "换了网线",
    )
    people = [row for row in audit_rows(engine, incident["id"]) if row[1] != "system:incidents"]
    assert people == [("incident.acknowledge", "sup-qinzhou"), ("incident.close", "sup-qinzhou")]


def test_another_countys_supervisor_is_refused(world, http_login):
    server, engine = world["server"], world["engine"]
    (incident,) = camera_incidents(engine, "qinzhou-kill")
    session = http_login(server, "sup-maiji")
    assert session.get(f"{server.url}/centres/qinzhou", timeout=10).status_code == 403
    assert session.get(f"{server.url}/incidents/{incident['id']}/clip", timeout=10).status_code == 404
    exported = session.get(f"{server.url}/incidents/export.csv", timeout=10)
    assert exported.status_code == 200 and "qinzhou-kill" not in exported.text
    assert session.get(f"{server.url}/incidents/export.csv?county=qinzhou", timeout=10).status_code == 400
    client = socketio.Client(reconnection=False)
    cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    client.connect(
        server.url, headers={"Cookie": cookie, "Origin": server.url}, transports=["polling"], wait_timeout=10
    )
    try:
        answer = client.call(
            "incident.act",
            {"id": incident["id"], "action": "acknowledge", "version": incident["version"]},
            timeout=10,
        )
        listed = client.call("incidents.open", {}, timeout=10)
    finally:
        client.disconnect()
    assert answer["ok"] is False and "no incident" in answer["error"]
    assert all(row["county"] == "maiji" for row in listed["incidents"])
    after = camera_incidents(engine, "qinzhou-kill")[0]
    assert (after["state"], after["version"]) == ("open", incident["version"])
    assert ("incident.acknowledge", "sup-maiji") not in audit_rows(engine, incident["id"])


def test_an_overdue_incident_is_escalated_to_the_wall_and_acknowledged_there(world, browser):
    server, engine = world["server"], world["engine"]
    (incident,) = camera_incidents(engine, "qinzhou-kill")
    context = login_as(browser, server, "command", viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/wall?lang=en")
        item = f".incident-item[data-incident='{incident['id']}']"
        page.wait_for_selector(item, timeout=30_000)
        page.wait_for_selector(f"{item}.overdue", timeout=(ACK_DEADLINE_S + 20) * 1000)
        assert wait_until(
            lambda: camera_incidents(engine, "qinzhou-kill")[0]["escalated_at"], 10, 0.2, "escalated"
        )
        counts = page.inner_text("[data-incidents-centre=qinzhou]")
        assert "overdue" in counts
        page.wait_for_timeout(1500)
        screenshot(page, world, "wall-incidents-overdue.png")
        # a click on the ticker opens the camera full screen; its open incidents are acknowledged there
        page.click(item)
        page.click(f"#camera-view [data-ack='{incident['id']}']")
        page.wait_for_selector(f"#camera-view [data-incident='{incident['id']}'][data-state=acknowledged]")
        page.click("#camera-view-back")
        page.wait_for_selector(f"{item}.acknowledged", timeout=15_000)
        screenshot(page, world, "wall-incidents-acknowledged.png")
    finally:
        context.close()
    actions = audit_rows(engine, incident["id"])
    assert ("incident.escalate", "system:incidents") in actions and (
        "incident.acknowledge",
        "command",
    ) in actions


def test_a_missed_slot_opens_an_incident_only_after_its_window_closes(world):
    engine, morning_end = world["engine"], world["morning_end"]
    assert world["missed_before"] == 0  # the window was still open: nothing missed yet
    wait_until(lambda: datetime.now(UTC) > morning_end, WINDOW_CLOSES_IN_S + 10, 0.5, "the window to close")
    wait_until(lambda: missed_slot_incidents(engine, morning_end) == 2, 30, 0.5, "two missed-slot incidents")
    key = f"%:missed_checkin:{morning_end.date().isoformat()}:morning"
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT kind, subject_ref, opened_at, state FROM incidents WHERE problem_key LIKE :key LIMIT 1"
            ),
            {"key": key},
        ).one()
    assert row.kind == "missed_checkin" and row.state == "open" and "*" in row.subject_ref
    assert not re.search(r"\d{6,}", row.subject_ref)
