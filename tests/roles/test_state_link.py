"""Redis stopped under a running cluster: the pages say "connection lost" instead of showing the
last camera states as live, and recover by themselves when Redis returns.

The test starts a private redis-server (its own port, no persistence) and stops that one; the
machine's Redis is never touched.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import socketio

from tests.dashboard.conftest import PASSWORD, free_port, login_as, wait_http
from tests.roles.test_web_role import log_in
from tests.support.cluster import NodeProcess, cluster_site, node_env, wait_for, write_annexb_clip
from tests.support.redis_process import RedisProcess
from tests.support.rtsp_process import RtspServerProcess
from watchwall.config.database import make_engine
from watchwall.dashboard.accounts import add_user

pytestmark = [pytest.mark.postgres, pytest.mark.rtsp, pytest.mark.browser, pytest.mark.slow]

CAMERA = "qz0"
COUNTIES = {"qinzhou": [CAMERA]}


class Served:
    def __init__(self, url: str) -> None:
        self.url = url


def camera_states(url: str, session) -> dict[str, str]:
    snapshots: list[dict] = []
    client = socketio.Client(reconnection=False)
    client.on("camera.snapshot", snapshots.append)
    cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    client.connect(url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
    try:
        wait_for(lambda: snapshots, 20, "the camera snapshot")
    finally:
        client.disconnect()
    return {camera: value["state"] for camera, value in snapshots[0]["cameras"].items()}


def test_stopping_redis_shows_connection_lost_and_the_pages_recover(postgres, browser, tmp_path):
    redis_server = RedisProcess(tmp_path / "redis").start()
    clip = write_annexb_clip(tmp_path / "clip.h264")
    camera = RtspServerProcess({f"/{CAMERA}": f"file:{clip}"}).start()
    database_url = postgres.migrated("ww_link")
    engine = make_engine(database_url)
    add_user(engine, "command", PASSWORD, "city_command", [], set(COUNTIES))
    engine.dispose()
    site = cluster_site(tmp_path / "site.yaml", lambda camera_id: camera.url(f"/{camera_id}"), COUNTIES)
    env = dict(node_env(tmp_path / "node-a", database_url, site), WATCHWALL_REDIS_URL=redis_server.url)
    node = NodeProcess("node-a", tmp_path / "node-a", env, ["--listen", "127.0.0.1:0"]).start()
    port = free_port()
    web = Served(f"http://127.0.0.1:{port}")
    (tmp_path / "web").mkdir()
    web_env = dict(env, WATCHWALL_DATA_DIR=str(tmp_path / "web"))
    with (tmp_path / "web" / "web.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "watchwall.roles.cli", "web", "--port", str(port), "--threads", "16"],
            env=web_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    context = None
    try:
        wait_http(f"{web.url}/login", 120)
        session = log_in(web.url, "command")
        wait_for(lambda: camera_states(web.url, session) == {CAMERA: "online"}, 90, "the camera online")
        assert session.get(f"{web.url}/state/link", timeout=10).json()["ok"] is True

        context = login_as(browser, web, "command", viewport={"width": 1280, "height": 720})
        page = context.new_page()
        page.goto(f"{web.url}/wall?lang=en")
        page.wait_for_selector("body[data-state-link=ok]", timeout=30_000)
        assert not page.is_visible("#state-link-banner")

        redis_server.stop()
        page.wait_for_selector("body[data-state-link=lost]", timeout=30_000)
        banner = page.wait_for_selector("#state-link-banner", state="visible", timeout=10_000)
        assert "Connection lost" in banner.inner_text()
        answer = session.get(f"{web.url}/state/link?lang=zh-CN", timeout=10).json()
        assert answer["ok"] is False and "连接中断" in answer["message"], answer

        redis_server.start()  # the same port: every process finds it again by itself
        page.wait_for_selector("body[data-state-link=ok]", timeout=60_000)
        assert not page.is_visible("#state-link-banner")
        # the node publishes again into the empty store; a page that connects sees the camera live
        wait_for(lambda: camera_states(web.url, session) == {CAMERA: "online"}, 60, "the camera online again")
        thumbnail = wait_for(
            lambda: (
                (answer := session.get(f"{web.url}/snapshot/{CAMERA}.jpg", timeout=10)).status_code == 200
                and answer
            ),
            60,
            "the thumbnail published again",
        )
        assert thumbnail.content[:2] == b"\xff\xd8"
    finally:
        if context is not None:
            context.close()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        node.stop()
        camera.kill()
        redis_server.stop()
