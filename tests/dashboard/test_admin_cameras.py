"""/admin enables, disables and moves inventory cameras; open pages follow without a reload; only admins may.

Real parts: ``watchwall serve`` (with its inventory watcher), the ipycam ONVIF camera, Debian's
Chromium through Playwright, the served SQLite database read back through ``watchwall`` commands.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
import socketio

from tests.support.ipycam_process import start_ipycam  # noqa: E402

SITE = """
centres:
  - code: qinzhou
    name: {zh: 秦州区, en: Qinzhou}
    level: county
    rooms:
      - code: checkin
        name: {zh: 报到登记室, en: Check-in room}
        cameras:
          - {id: qz-site, name: {zh: 入口, en: Entrance}, demo: true}
  - code: maiji
    name: {zh: 麦积区, en: Maiji}
    level: county
"""
CAMERA_ID = "qz-door"
CAMERA_NAME = "门口摄像机"
FOLLOW_MS = 20_000  # ms a page has to follow a change: the watcher polls every 3 s


@pytest.fixture(scope="module")
def camera(tmp_path_factory):
    instance = start_ipycam(tmp_path_factory.mktemp("ipycam-admin"), rtsp=False)
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, served_factory):
    folder = tmp_path_factory.mktemp("served-admin")
    site = folder / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    instance = served_factory(
        folder, {"WATCHWALL_SITE": str(site)}, ("command", "sup-qinzhou", "sup-maiji", "admin")
    )
    instance.start("--no-ingest")
    yield instance
    instance.stop()


def inventory(server) -> dict[str, dict]:
    listed = server.cli("camera", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return {row["id"]: row for row in json.loads(listed.stdout)}


def config_changes(server) -> list[dict]:
    listing = server.cli("audit", "list", "--json", "--action", "config_change")
    assert listing.returncode == 0, listing.stderr
    return [json.loads(line) for line in listing.stdout.splitlines() if line.strip()]


def add_camera(server, camera) -> dict:
    """The camera in the inventory, added over ONVIF by ``watchwall camera add`` while the server runs."""
    if CAMERA_ID not in inventory(server):
        result = server.cli(
            "camera", "add", "--centre", "qinzhou", "--room", "checkin", "--id", CAMERA_ID,
            "--name", CAMERA_NAME, "--onvif", camera.address, "--timeout", "8",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    return inventory(server)[CAMERA_ID]


@pytest.fixture
def closed_address():
    """A loopback port that refuses connections (bound, never listening)."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    yield f"127.0.0.1:{holder.getsockname()[1]}"
    holder.close()


def choose_camera(page, camera_id: str) -> None:
    page.click("#inv-camera")
    page.click(f".dash-dropdown-option:has-text('{camera_id}')")


def act(page, button: str, expected: str) -> str:
    page.click(f"#{button}")
    result = page.locator("#inv-result")
    result.filter(has_text=expected).wait_for(timeout=FOLLOW_MS)
    return result.inner_text()


def camera_row(page, camera_id: str):
    return page.locator("#camera-table tr", has=page.locator(f"td:text-is('{camera_id}')"))


def test_admin_disables_and_enables_a_camera_and_an_open_centre_page_follows(
    browser, login, server, camera, screenshots
):
    supervisor = login(browser, server, "sup-qinzhou")
    admin = login(browser, server, "admin")
    try:
        centre = supervisor.new_page()
        centre.goto(f"{server.url}/centres/qinzhou?lang=en")
        centre.wait_for_selector("#centre-rooms .camera-pick")
        centre.evaluate("window.notReloaded = true")
        assert centre.locator(f"#centre-rooms button:text-is('{CAMERA_NAME}')").count() == 0

        add_camera(server, camera)  # added while the page is open: it appears without a reload
        listed = centre.locator(f"#centre-rooms button:text-is('{CAMERA_NAME}')")
        listed.wait_for(timeout=FOLLOW_MS)

        page = admin.new_page()
        page.goto(f"{server.url}/admin?lang=en")
        camera_row(page, CAMERA_ID).filter(has_text="enabled").wait_for(timeout=FOLLOW_MS)
        choose_camera(page, CAMERA_ID)
        assert "Camera disabled" in act(page, "inv-disable", "Camera disabled")
        camera_row(page, CAMERA_ID).filter(has_text="disabled").wait_for(timeout=FOLLOW_MS)
        assert inventory(server)[CAMERA_ID]["enabled"] is False

        listed.wait_for(state="detached", timeout=FOLLOW_MS)
        assert centre.locator("#centre-rooms button:text-is('Entrance')").count() == 1  # the rest stays
        centre.screenshot(path=str(screenshots / "admin-disabled-centre-follows.png"))

        assert "Camera enabled" in act(page, "inv-enable", "Camera enabled")
        assert inventory(server)[CAMERA_ID]["enabled"] is True
        listed.wait_for(timeout=FOLLOW_MS)
        assert centre.evaluate("window.notReloaded === true")
        page.screenshot(path=str(screenshots / "admin-inventory-actions.png"))
    finally:
        supervisor.close()
        admin.close()
    changes = [entry for entry in config_changes(server) if entry["target"] == f"camera:{CAMERA_ID}"]
    toggles = [entry["detail"] for entry in changes if "enabled" in (entry["detail"] or {})]
    assert toggles[:2] == [{"enabled": True}, {"enabled": False}]  # newest first
    assert all(entry["actor"] == "admin" for entry in changes if "enabled" in (entry["detail"] or {}))
    assert server.cli("audit", "verify").returncode == 0


def test_bad_input_changes_nothing_and_says_why_a_move_asks_the_camera_again(
    browser, login, server, camera, closed_address
):
    before = add_camera(server, camera)
    admin = login(browser, server, "admin")
    try:
        page = admin.new_page()
        page.goto(f"{server.url}/admin?lang=en")
        camera_row(page, CAMERA_ID).wait_for(timeout=FOLLOW_MS)
        choose_camera(page, CAMERA_ID)
        for address, reason in (
            ("127.0.0.1:99999", "invalid port"),
            ("127.0.0.1:0", "invalid port"),
            (closed_address, "cannot connect"),
        ):
            page.fill("#inv-address", address)
            message = act(page, "inv-move", reason)
            assert message.startswith("Nothing changed"), message
        assert inventory(server)[CAMERA_ID] == before

        # the same camera under another name for its host: asked for its streams again, then stored
        moved_to = f"localhost:{camera.onvif_port}"
        page.fill("#inv-address", moved_to)
        assert f"Camera moved: {CAMERA_ID} → {moved_to}" in act(page, "inv-move", "Camera moved")
        after = inventory(server)[CAMERA_ID]
        assert (after["onvif_host"], after["onvif_port"]) == ("localhost", camera.onvif_port)
        assert after["main_stream_uri"] == before["main_stream_uri"]
        camera_row(page, CAMERA_ID).filter(has_text=f"onvif://{moved_to}").wait_for(timeout=FOLLOW_MS)
    finally:
        admin.close()
    moves = [entry for entry in config_changes(server) if "moved_to" in (entry["detail"] or {})]
    assert moves[0]["target"] == f"camera:{CAMERA_ID}" and moves[0]["actor"] == "admin"
    assert moves[0]["detail"] == {"moved_from": camera.address, "moved_to": moved_to}
    assert len(moves) == 1  # the refused attempts changed nothing, so they left no change in the log


def callback_body(callback: dict, values: dict, trigger: str) -> dict:
    """What a page posts to run ``callback`` with ``values`` (by component id), as if ``trigger`` was clicked."""

    def item(dependency: dict) -> dict:
        value = values.get(dependency["id"], 1 if dependency["property"] == "n_clicks" else None)
        return {"id": dependency["id"], "property": dependency["property"], "value": value}

    outputs = [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
        for part in callback["output"].strip(".").split("...")
        if part
    ]
    return {
        "output": callback["output"],
        "outputs": outputs if callback["output"].startswith("..") else outputs[0],
        "inputs": [item(d) for d in callback["inputs"]],
        "state": [item(d) for d in callback["state"]],
        "changedPropIds": [f"{trigger}.n_clicks"],
    }


def test_only_an_admin_may_run_the_camera_callbacks(server, camera, http_login):
    add_camera(server, camera)
    admin = http_login(server, "admin")
    callbacks = admin.get(f"{server.url}/_dash-dependencies", timeout=10).json()
    action = next(c for c in callbacks if c["output"] == "inv-result.children")
    table = next(c for c in callbacks if "admin-camera-table.children" in c["output"])
    headers = {"Origin": server.url, "Content-Type": "application/json"}
    values = {"inv-camera": CAMERA_ID, "inv-address": camera.address, "admin-language": "en"}
    for username in ("command", "sup-qinzhou"):
        session = http_login(server, username)
        for trigger in ("inv-disable", "inv-move", "inv-enable"):
            refused = session.post(
                f"{server.url}/_dash-update-component",
                json=callback_body(action, values, trigger),
                headers=headers,
                timeout=30,
            )
            assert refused.status_code == 403, (username, trigger, refused.text[:200])
        listing = session.post(
            f"{server.url}/_dash-update-component",
            json=callback_body(table, values, "cam-add"),
            headers=headers,
            timeout=30,
        )
        assert listing.status_code == 403 and CAMERA_ID not in listing.text
    assert inventory(server)[CAMERA_ID]["enabled"] is True
    assert not any(entry["actor"] in ("command", "sup-qinzhou") for entry in config_changes(server))

    # the same request from the admin is carried out; an unknown camera is refused with its reason
    unknown = admin.post(
        f"{server.url}/_dash-update-component",
        json=callback_body(action, {**values, "inv-camera": "no-such-cam"}, "inv-disable"),
        headers=headers,
        timeout=30,
    )
    assert unknown.status_code == 200 and "no camera 'no-such-cam' in the inventory" in unknown.text
    assert "no-such-cam" not in inventory(server)
    # and without the page's origin, even the admin's request is refused (the app's CSRF rule)
    forged = admin.post(
        f"{server.url}/_dash-update-component",
        json=callback_body(action, values, "inv-disable"),
        headers={"Content-Type": "application/json", "Origin": "http://evil.example"},
        timeout=30,
    )
    assert forged.status_code == 403 and inventory(server)[CAMERA_ID]["enabled"] is True


def test_the_recordings_filters_list_a_camera_added_meanwhile_in_a_new_room(browser, login, server, camera):
    add_camera(server, camera)
    inspector = login(browser, server, "admin")  # the served users' one role that sees recordings
    try:
        page = inspector.new_page()
        page.goto(f"{server.url}/recordings?lang=en")
        page.locator("#rec-camera").filter(has_text="Entrance").wait_for(timeout=FOLLOW_MS)
        page.evaluate("window.notReloaded = true")
        result = server.cli(
            "camera", "add", "--centre", "qinzhou", "--room", "education", "--id", "qz-class",
            "--name", "教室", "--onvif", camera.address, "--timeout", "8",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        page.wait_for_timeout(500)
        deadline_ms, waited = FOLLOW_MS, 0
        while waited < deadline_ms:  # the room list is read when the dropdown opens
            page.click("#rec-room")
            if page.locator(".dash-dropdown-option:has-text('Education room')").count():
                break
            page.keyboard.press("Escape")
            page.wait_for_timeout(500)
            waited += 500
        page.click(".dash-dropdown-option:has-text('Education room')")
        page.locator("#rec-camera").filter(has_text="教室").wait_for(timeout=FOLLOW_MS)
        assert page.evaluate("window.notReloaded === true")
    finally:
        inspector.close()


def test_the_wall_tiles_and_board_follow_an_enabled_and_a_disabled_camera(browser, login, server, camera):
    add_camera(server, camera)
    assert server.cli("camera", "disable", CAMERA_ID).returncode == 0
    command = login(browser, server, "command")
    try:
        page = command.new_page()
        page.goto(f"{server.url}/wall?lang=en")
        page.wait_for_selector(".tile[data-camera='qz-site']")
        tile = f".tile[data-camera='{CAMERA_ID}']"
        page.wait_for_selector(tile, state="detached", timeout=FOLLOW_MS)  # once the disable is applied
        page.evaluate("window.notReloaded = true")
        assert server.cli("camera", "enable", CAMERA_ID).returncode == 0
        shown = len([row for row in inventory(server).values() if row["enabled"]]) + 1  # + the site file's
        page.wait_for_selector(tile, timeout=FOLLOW_MS)
        count = page.locator(".centre-row[data-centre='qinzhou'] .centre-cameras")
        count.filter(has_text=f"{shown} ").wait_for(timeout=FOLLOW_MS)
        assert server.cli("camera", "disable", CAMERA_ID).returncode == 0
        page.wait_for_selector(tile, state="detached", timeout=FOLLOW_MS)
        count.filter(has_text=f"{shown - 1} ").wait_for(timeout=FOLLOW_MS)
        assert page.locator(".tile[data-camera='qz-site']").count() == 1
        assert page.evaluate("window.notReloaded === true")
    finally:
        command.close()
    assert server.cli("camera", "enable", CAMERA_ID).returncode == 0  # as the other tests expect it


def test_cameras_changed_reaches_only_the_sockets_that_may_see_the_centre(server, camera, http_login):
    add_camera(server, camera)
    heard: dict[str, list[dict]] = {"sup-qinzhou": [], "sup-maiji": []}
    clients = []
    try:
        for username, events in heard.items():
            session = http_login(server, username)
            cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
            client = socketio.Client(reconnection=False)
            client.on("cameras.changed", events.append)
            client.connect(
                server.url,
                headers={"Cookie": cookie, "Origin": server.url},
                transports=["polling"],
                wait_timeout=10,
            )
            clients.append(client)
        for command, count in (("disable", 1), ("enable", 2)):
            assert server.cli("camera", command, CAMERA_ID).returncode == 0
            deadline = time.monotonic() + FOLLOW_MS / 1000
            while len(heard["sup-qinzhou"]) < count and time.monotonic() < deadline:
                time.sleep(0.1)
        time.sleep(1)  # time enough for a stray event to the other county
    finally:
        for client in clients:
            client.disconnect()
    assert heard["sup-qinzhou"] == [{"centre": "qinzhou"}, {"centre": "qinzhou"}]
    assert heard["sup-maiji"] == []  # another county hears nothing of qinzhou's cameras
