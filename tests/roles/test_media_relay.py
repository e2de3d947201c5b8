"""Live view, playback and export through the web role, from ingest nodes in processes of their own.

A GStreamer RTSP camera, node processes on one PostgreSQL database and Redis, a web role under
gunicorn, and Chromium: the live view plays through the web role's relay and goes on playing
without a reload when the camera moves to another node (a node of its county joins); a span
recorded partly on each node plays in the browser and exports through the web role, and the
evidence package verifies; the camera's node killed, the open page plays the camera from the
node that takes it over. A node serves no video without a token signed with the cluster's secret.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from tests.dashboard.conftest import PASSWORD, free_port, login_as, wait_http
from tests.roles.test_web_role import log_in
from tests.support.cluster import (
    NodeProcess,
    cluster_site,
    cluster_status,
    node_env,
    query,
    wait_for,
    write_annexb_clip,
)
from tests.support.rtsp_process import RtspServerProcess
from watchwall.config.database import make_engine
from watchwall.dashboard.accounts import add_user
from watchwall.roles import media_tokens

pytestmark = [pytest.mark.postgres, pytest.mark.rtsp, pytest.mark.browser, pytest.mark.slow]

CAMERA = "qz0"
COUNTIES = {"qinzhou": [CAMERA]}


class Served:
    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture
def relay_cluster(postgres, tmp_path):
    clip = write_annexb_clip(tmp_path / "clip.h264")
    camera = RtspServerProcess({f"/{CAMERA}": f"file:{clip}"}).start()
    database_url = postgres.migrated("ww_relay")
    engine = make_engine(database_url)
    for name, role in (("command", "city_command"), ("inspector", "inspector")):
        add_user(engine, name, PASSWORD, role, [], set(COUNTIES))
    engine.dispose()
    site = cluster_site(tmp_path / "site.yaml", lambda camera_id: camera.url(f"/{camera_id}"), COUNTIES)
    nodes: list[NodeProcess] = []

    def start_node(name: str, *args: str) -> NodeProcess:
        data_dir = tmp_path / name
        node = NodeProcess(
            name, data_dir, node_env(data_dir, database_url, site), ["--listen", "127.0.0.1:0", *args]
        )
        nodes.append(node)
        return node.start()

    web_port = free_port()
    web_env = dict(node_env(tmp_path / "web", database_url, site))
    (tmp_path / "web").mkdir()
    log_path = tmp_path / "web" / "web.log"
    with log_path.open("wb") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "watchwall.roles.cli", "web", "--port", str(web_port), "--threads", "16"],
            env=web_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield start_node, database_url, Served(f"http://127.0.0.1:{web_port}"), web_env, log_path
    finally:
        web.terminate()
        try:
            web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            web.kill()
        for node in nodes:
            node.stop()
        camera.kill()


def node_address(env, name: str) -> str:
    nodes = {node["name"]: node for node in cluster_status(env)["nodes"]}
    return nodes[name]["address"]


def http_status(url: str, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def owner(env) -> str | None:
    return cluster_status(env)["cameras"].get(CAMERA, {}).get("owner")


def closed_segments(database_url: str) -> list:
    return query(
        database_url,
        "SELECT node, path, start_utc, end_utc FROM recording_segments "
        "WHERE camera_id = :c AND status = 'closed' ORDER BY start_utc",
        c=CAMERA,
    )


PLAYED_COUNTER = """() => {
  window.__played = 0; let last = null;
  setInterval(() => { const video = document.getElementById('centre-live');
    const now = video ? video.currentTime : 0;
    if (last !== null && now > last) window.__played += now - last; last = now; }, 100);
}"""


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def test_live_playback_and_export_through_the_web_role_across_two_nodes(relay_cluster, browser, tmp_path):
    start_node, database_url, web, web_env, web_log = relay_cluster
    a = start_node("node-a")
    wait_for(lambda: owner(a.env) == "node-a", 90, "node-a owning the camera")
    address = node_address(a.env, "node-a")

    # the node serves its health to anyone, video only with a token signed with the cluster's secret
    assert http_status(f"http://{address}/health") == 200
    target = f"/live/{CAMERA}?stream=main"
    assert http_status(f"http://{address}{target}") == 403
    forged = media_tokens.sign(media_tokens.media_key(b"x" * 32), target)
    assert http_status(f"http://{address}{target}", {media_tokens.HEADER: forged}) == 403
    wait_for(lambda: closed_segments(database_url), 60, "a first segment on node-a")
    segment = closed_segments(database_url)[0]
    assert http_status(f"http://{address}/segments/{segment.path}") == 403

    try:
        wait_http(f"{web.url}/login", 120)
    except TimeoutError:
        pytest.fail(f"the web role did not start:\n{web_log.read_text()[-3000:]}")
    context = login_as(browser, web, "command", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{web.url}/centres/qinzhou?lang=en")
        page.wait_for_selector(f"#centre-live[data-live-camera={CAMERA}]", timeout=30_000)
        page.evaluate(PLAYED_COUNTER)
        page.wait_for_function("() => window.__played > 2", timeout=60_000)

        # a node of the camera's county joins: the camera moves there at a segment boundary, and
        # the open page goes on playing through the web role without a reload
        b = start_node("node-b", "--county", "qinzhou")
        wait_for(lambda: owner(a.env) == "node-b", 90, "the camera moving to node-b")
        played = page.evaluate("() => window.__played")
        page.wait_for_function(f"() => window.__played > {played} + 3", timeout=60_000)
    finally:
        context.close()

    wait_for(
        lambda: [row for row in closed_segments(database_url) if row.node == "node-b"][1:],
        60,
        "node-b recording the camera",
    )
    rows = closed_segments(database_url)
    assert {row.node for row in rows} == {"node-a", "node-b"}, rows
    start, end = rows[0].start_utc + 0.5, rows[-1].end_utc - 0.5

    # playback of the span (partly on each node) in Chromium, through the web role
    session = log_in(web.url, "inspector")
    play = f"/recordings/play/{CAMERA}?" + urlencode({"from": iso(start), "to": iso(end)})
    answer = session.get(f"{web.url}{play}", headers={"Range": "bytes=0-1023"}, timeout=120)
    assert answer.status_code == 206, answer.text[:500]
    inspector = login_as(browser, web, "inspector")
    page = inspector.new_page()
    try:
        page.goto(f"{web.url}/login")  # any page of the site: the video's request carries the cookie
        page.evaluate(
            """(src) => { const video = document.createElement('video');
                 video.id = 'played'; video.muted = true; video.src = src;
                 document.body.appendChild(video); video.play(); }""",
            play,
        )
        page.wait_for_function(
            "() => { const v = document.getElementById('played'); return v && v.currentTime > 2; }",
            timeout=60_000,
        )
        duration = page.evaluate("() => document.getElementById('played').duration")
    finally:
        inspector.close()
    assert duration > (rows[-1].end_utc - rows[0].start_utc) - 3, duration

    # export through the web role: the segments of both nodes, and the package verifies
    answer = session.post(
        f"{web.url}/recordings/export",
        json={"camera": CAMERA, "from": iso(start), "to": iso(end), "reason": "relay test"},
        headers={"Origin": web.url},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text[:500]
    package = tmp_path / "evidence.zip"
    package.write_bytes(answer.content)
    with zipfile.ZipFile(package) as opened:
        manifest = json.loads(opened.read("manifest.json"))
    exported = {entry["path"] for entry in manifest["segments"]}
    holders = {row.node for row in rows if row.path in exported}
    assert holders == {"node-a", "node-b"}, (holders, manifest["segments"])
    verified = subprocess.run(
        [sys.executable, "-m", "watchwall.roles.cli", "verify", str(package)],
        env=web_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # kill -9 the camera's node: the other node takes the camera over and an open page plays it
    # again through the web role, without a reload
    context = login_as(browser, web, "command", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{web.url}/centres/qinzhou?lang=en")
        page.wait_for_selector(f"#centre-live[data-live-camera={CAMERA}]", timeout=30_000)
        page.evaluate(PLAYED_COUNTER)
        page.wait_for_function("() => window.__played > 2", timeout=60_000)
        b.kill()
        wait_for(lambda: owner(a.env) == "node-a", 60, "node-a taking the camera over")
        played = page.evaluate("() => window.__played")
        page.wait_for_function(f"() => window.__played > {played} + 3", timeout=90_000)
    finally:
        context.close()
