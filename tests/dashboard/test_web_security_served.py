"""Issue 13 B against a real ``watchwall serve``: the pages under the CSP in Chromium, WebSocket
origins, engine.io handshakes, socket.io input, and the audit of playback, live views and snapshots."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import requests
import socketio
from simple_websocket import Client

from tests.dashboard.test_recording_routes import BLOCK_S, audit_rows, play_url, record_with_gap
from tests.support.rtsp_process import RtspServerProcess
from watchwall.config.settings import DEMO_SITE
from watchwall.config.site import load_site

QINZHOU_CAMERA = next(p.camera.id for p in load_site(DEMO_SITE).cameras() if p.centre.code == "qinzhou")
UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}
VIOLATIONS = """() => { window.__csp = [];
  document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''))); }"""


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


# 3. Security headers: no version banner, and every page works in Chromium under the CSP ---------


@pytest.mark.browser
def test_pages_work_in_chromium_under_the_csp(served, browser, login):
    served_response = requests.get(f"{served.url}/login", timeout=10)
    assert served_response.headers["Server"] == "WatchWall"
    assert not re.search(r"\d", served_response.headers["Server"])
    record_with_gap(Path(served.env["WATCHWALL_DATA_DIR"]))
    context = login(browser, served, "admin", viewport={"width": 1920, "height": 1080}, bypass_csp=False)
    violations: list[str] = []
    try:
        for path, ready in (
            ("/wall?lang=en", "#wall-kpis *"),
            ("/centres/qinzhou?lang=en", "#centre-rooms *"),
            ("/recordings?lang=en", "#rec-audit-chain:has-text('chain')"),
            ("/admin?lang=en", "#user-table"),
        ):
            page = context.new_page()
            page.on(
                "console",
                lambda message, path=path, sink=violations: (
                    sink.append(f"{path}: {message.text}")
                    if "Content Security Policy" in message.text or "Refused to" in message.text
                    else None
                ),
            )
            page.add_init_script(f"({VIOLATIONS})()")
            page.goto(f"{served.url}{path}")
            page.wait_for_selector(ready, timeout=60_000)
            page.wait_for_timeout(3000)  # callbacks, socket.io and figures have run
            violations += [f"{path}: {v}" for v in page.evaluate("window.__csp")]
            page.close()
        framer = context.new_page()  # another site framing /admin
        refusals: list[str] = []
        framer.on("console", lambda message: refusals.append(message.text))
        framer.set_content(f'<iframe src="{served.url}/admin"></iframe>')
        for _ in range(100):  # the refusal comes as the frame loads: up to 10 s
            if any("frame-ancestors" in text for text in refusals):
                break
            framer.wait_for_timeout(100)
        framer.close()
    finally:
        context.close()
    assert violations == []
    assert any("frame-ancestors" in text for text in refusals), refusals


# 4. WebSocket Origin ----------------------------------------------------------------------------


def test_live_and_socketio_accept_only_the_serving_origin(served, http_login):
    session = http_login(served, "command")
    cookie = {"Cookie": cookie_header(session)}
    live = f"{served.url}/live/{QINZHOU_CAMERA}"
    evil = requests.get(live, headers={**UPGRADE, **cookie, "Origin": "http://evil.example"}, timeout=10)
    assert evil.status_code == 403
    same = requests.get(live, headers={**UPGRADE, **cookie, "Origin": served.url}, timeout=10)
    assert same.status_code == 404  # allowed through; this serve pulls no camera
    many = f"{served.url}/live?cameras={QINZHOU_CAMERA}"
    assert (
        requests.get(
            many, headers={**UPGRADE, **cookie, "Origin": "http://evil.example"}, timeout=10
        ).status_code
        == 403
    )

    handshake = f"{served.url}/socket.io/?EIO=4&transport=polling"
    refused = requests.get(handshake, headers={**cookie, "Origin": "http://evil.example"}, timeout=10)
    assert refused.status_code == 400
    accepted = requests.get(handshake, headers={**cookie, "Origin": served.url}, timeout=10)
    assert accepted.status_code == 200 and '"sid"' in accepted.text


# 5. Anonymous engine.io sessions ----------------------------------------------------------------


def test_engineio_refuses_a_handshake_without_a_logged_in_user(served, http_login):
    handshake = f"{served.url}/socket.io/?EIO=4&transport=polling"
    anonymous = requests.get(handshake, timeout=10)
    assert anonymous.status_code == 401 and '"sid"' not in anonymous.text
    logged_out = http_login(served, "command")
    cookie = cookie_header(logged_out)
    logged_out.post(f"{served.url}/logout", headers={"Origin": served.url}, timeout=10)
    assert requests.get(handshake, headers={"Cookie": cookie}, timeout=10).status_code == 401


# 9. (socket.io part) a join that is not an object -----------------------------------------------


def test_a_join_that_is_not_an_object_gets_an_error_answer(served, http_login):
    session = http_login(served, "sup-maiji")
    client = socketio.Client(reconnection=False)
    client.connect(
        served.url,
        headers={"Cookie": cookie_header(session), "Origin": served.url},
        transports=["polling"],
        wait_timeout=10,
    )
    try:
        for message in ("maiji", ["maiji"], 5, None, {"centre": ["maiji"]}):
            answer = client.call("join", message, timeout=10)
            assert answer["ok"] is False and "bad request" in answer["error"], (message, answer)
        assert client.call("join", {"centre": "maiji"}, timeout=10) == {"ok": True}
    finally:
        client.disconnect()


# 6. Audit completeness: playback of any byte range, live views and snapshots ------------------------


def test_playback_is_audited_for_any_range_once_per_span(served, http_login):
    recorded = record_with_gap(Path(served.env["WATCHWALL_DATA_DIR"]))
    inspector = http_login(served, "inspector")
    span_end = recorded.start_utc + BLOCK_S  # a span no other test plays
    before = len(audit_rows(served, "playback", "inspector"))
    url = play_url(served, recorded, recorded.start_utc + 1, span_end)
    middle = inspector.get(url, headers={"Range": "bytes=1000-1999"}, timeout=60)
    assert middle.status_code == 206
    played = audit_rows(served, "playback", "inspector")
    assert len(played) == before + 1, "a range that does not start at 0 downloads the span unaudited"
    assert played[0].target == recorded.camera
    assert inspector.get(url, timeout=60).status_code == 200
    assert inspector.get(url, headers={"Range": "bytes=0-99"}, timeout=60).status_code == 206
    assert len(audit_rows(served, "playback", "inspector")) == before + 1  # once per user, camera and span


@pytest.fixture(scope="module")
def camera_served(tmp_path_factory, served_factory):
    rtsp = RtspServerProcess({"/cam": "h264"}).start()
    folder = tmp_path_factory.mktemp("audit-live")
    site = folder / "site.yaml"
    site.write_text(
        "centres:\n"
        "  - code: qinzhou\n"
        "    name: {zh: 秦州区社区矫正中心, en: Qinzhou District Centre}\n"
        "    level: county\n"
        "    rooms:\n"
        "      - code: checkin\n"
        "        name: {zh: 报到登记室, en: Check-in room}\n"
        "        cameras:\n"
        "          - id: qinzhou-cam\n"
        "            name: 摄像机\n"
        f"            rtsp: {rtsp.url('/cam')}\n",
        encoding="utf-8",
    )
    server = served_factory(folder, {"WATCHWALL_SITE": str(site)}, users=("sup-qinzhou",))
    server.start("--no-record", timeout=300)  # the shared machine may be busy
    yield server
    server.stop()
    rtsp.kill()


@pytest.mark.rtsp
def test_live_views_and_snapshots_are_audited_with_their_duration(camera_served, http_login):
    session = http_login(camera_served, "sup-qinzhou")
    headers = {"Cookie": cookie_header(session)}  # simple-websocket's Host has no port: no Origin to match
    ws_url = camera_served.url.replace("http://", "ws://") + "/live/qinzhou-cam"
    deadline = time.monotonic() + 60
    socket = None
    while socket is None:  # the camera's first keyframe makes its live channel
        try:
            socket = Client.connect(ws_url, headers=headers)
        except ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    try:
        kinds = []
        for _ in range(5):  # text messages before the init segment ("stream" says which one plays)
            message = socket.receive(timeout=30)
            kinds.append(json.loads(message)["type"] if isinstance(message, str) else "binary")
            if kinds[-1] == "init":
                break
        assert "init" in kinds, kinds
        time.sleep(2)
    finally:
        socket.close()
    deadline = time.monotonic() + 20
    ended = []
    while not ended and time.monotonic() < deadline:
        time.sleep(0.5)
        ended = [row for row in audit_rows(camera_served, "live_view_end", "sup-qinzhou")]
    started = audit_rows(camera_served, "live_view", "sup-qinzhou")
    assert started and started[0].target == "qinzhou-cam"
    assert ended and ended[0].target == "qinzhou-cam"
    assert 2 <= json.loads(ended[0].detail)["duration_s"] < 60

    snapshot = f"{camera_served.url}/snapshot/qinzhou-cam.jpg"
    deadline = time.monotonic() + 60
    answer = session.get(snapshot, timeout=10)
    while answer.status_code == 404 and time.monotonic() < deadline:  # the first thumbnail
        time.sleep(1)
        answer = session.get(snapshot, timeout=10)
    assert answer.status_code == 200 and answer.content[:2] == b"\xff\xd8"
    assert session.get(snapshot, timeout=10).status_code == 200
    snapshots = audit_rows(camera_served, "snapshot", "sup-qinzhou")
    assert len(snapshots) == 1 and snapshots[0].target == "qinzhou-cam"
