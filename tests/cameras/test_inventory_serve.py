"""``watchwall serve`` with a camera added by ``watchwall camera add`` while it runs: pulled, recorded,
listed on the centre page and the wall, its snapshot for its county only; disabled, it stops.

Real parts: the served process, the ipycam camera over ONVIF and RTSP, PostgreSQL.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import requests

from tests.support.form_login import form_login
from tests.support.rtsp_process import free_port, wait_until
from watchwall.config.database import make_engine, upgrade
from watchwall.dashboard.accounts import add_user

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
SITE = """
centres:
  - code: qinzhou
    name: {zh: 秦州区, en: Qinzhou}
    level: county
    rooms:
      - code: checkin
        name: {zh: 报到登记室, en: Check-in room}
  - code: maiji
    name: {zh: 麦积区, en: Maiji}
    level: county
"""


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.ConnectionError:
        return False


def metrics(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        return response.read().decode()


def recorded_packets(text: str, camera_id: str) -> float:
    match = re.search(rf'^watchwall_recorder_packets(?:_total)?{{camera="{camera_id}"}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def cameras_in_state(text: str, state: str) -> float:
    match = re.search(rf'^watchwall_cameras{{state="{state}"}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def log_in(url: str, username: str) -> requests.Session:
    return form_login(url, username, PASSWORD, expect_success=True)


def page_content(session: requests.Session, url: str, path: str) -> str:
    """The page's layout as the Dash pages callback returns it to the browser."""
    callbacks = session.get(f"{url}/_dash-dependencies", timeout=10).json()
    pages = next(c for c in callbacks if "_pages_content.children" in c["output"])
    values = {"pathname": path.split("?")[0], "search": "", "hash": "", "href": f"{url}{path}"}

    def value(item: dict) -> dict:
        return {"id": item["id"], "property": item["property"], "value": values.get(item["property"])}

    outputs = [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
        for part in pages["output"].strip(".").split("...")
        if part
    ]
    body = {
        "output": pages["output"],
        "outputs": outputs if pages["output"].startswith("..") else outputs[0],
        "inputs": [value(item) for item in pages["inputs"]],
        "state": [value(item) for item in pages["state"]],
        "changedPropIds": [f"{pages['inputs'][0]['id']}.{pages['inputs'][0]['property']}"],
    }
    response = session.post(
        f"{url}/_dash-update-component",
        json=body,
        headers={"Origin": url, "Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text[:300]
    return json.dumps(response.json(), ensure_ascii=False)


@pytest.fixture
def served(tmp_path, scratch_database_url, cli_env):
    site = tmp_path / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    env = {
        **cli_env,
        "WATCHWALL_DATABASE_URL": scratch_database_url,
        "WATCHWALL_SITE": str(site),
        "PYTHONUNBUFFERED": "1",
    }
    upgrade(scratch_database_url)
    engine = make_engine(scratch_database_url)
    try:
        add_user(engine, "command", PASSWORD, "city_command", [], {"qinzhou", "maiji"})
        add_user(engine, "sup-maiji", PASSWORD, "county_supervisor", ["maiji"], {"qinzhou", "maiji"})
    finally:
        engine.dispose()
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "watchwall.roles.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{url}/login") or process.poll() is not None, 120, interval=0.2)
        assert process.poll() is None
    except AssertionError:
        process.kill()
        process.wait(timeout=15)
        raise AssertionError(log_path.read_text()[-3000:]) from None
    yield url, env, log_path
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=20) == 0, log_path.read_text()[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=15)


def watchwall(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "watchwall.roles.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_camera_added_while_serving_is_pulled_recorded_shown_and_dropped(open_camera, served):
    url, env, log_path = served
    assert cameras_in_state(metrics(url), "online") == 0
    added = watchwall(
        env,
        "camera",
        "add",
        "--centre",
        "qinzhou",
        "--room",
        "checkin",
        "--id",
        "qz-door",
        "--name",
        "门口摄像机",
        "--onvif",
        open_camera.address,
    )
    assert added.returncode == 0, added.stderr
    wait_until(lambda: cameras_in_state(metrics(url), "online") == 1, 60, what="the added camera online")
    wait_until(lambda: recorded_packets(metrics(url), "qz-door") > 0, 30, what="the camera recorded")

    command = log_in(url, "command")
    centre_page = page_content(command, url, "/centres/qinzhou")
    assert "qz-door" in centre_page and "门口摄像机" in centre_page and "报到登记室" in centre_page
    wall = page_content(command, url, "/wall")
    assert "qz-door" in wall
    jpeg = wait_until(
        lambda: (
            (r := command.get(f"{url}/snapshot/qz-door.jpg", timeout=10)).status_code == 200 and r.content
        ),
        30,
        what="a thumbnail",
    )
    assert jpeg.startswith(b"\xff\xd8")
    other_county = log_in(url, "sup-maiji")
    assert other_county.get(f"{url}/snapshot/qz-door.jpg", timeout=10).status_code == 403

    disabled = watchwall(env, "camera", "disable", "qz-door")
    assert disabled.returncode == 0, disabled.stderr
    wait_until(lambda: cameras_in_state(metrics(url), "online") == 0, 30, what="the disabled camera dropped")
    assert 'camera="qz-door"' not in metrics(url).split("watchwall_recorder")[0]
    assert command.get(f"{url}/snapshot/qz-door.jpg", timeout=10).status_code == 404
