"""The web role under gunicorn, as the README runs it: pages, login, and camera events that an
ingest process publishes on Redis reaching a browser's socket."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio

from tests.dashboard.conftest import PASSWORD, free_port, wait_http
from tests.support.form_login import form_login
from watchwall.config.database import make_engine
from watchwall.dashboard.accounts import add_user
from watchwall.video.state.events import RedisSink

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"
GUNICORN = Path(sys.executable).with_name("gunicorn")


def web_env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHWALL_")}
    env.update(
        WATCHWALL_DATA_DIR=str(data_dir),
        WATCHWALL_DATABASE_URL=database_url,
        WATCHWALL_REDIS_URL=REDIS_URL,
        PYTHONUNBUFFERED="1",
    )
    return env


def log_in(url: str, username: str) -> requests.Session:
    return form_login(url, username, PASSWORD, expect_success=True)


COMMAND_LINES = {
    "watchwall web": lambda port: [
        str(Path(sys.executable).with_name("watchwall")),
        "web",
        "--port",
        str(port),
        "--threads",
        "16",
    ],
    # the README's production line, verbatim but for the port
    "gunicorn": lambda port: [
        str(GUNICORN),
        "-k",
        "gthread",
        "-w",
        "1",
        "--threads",
        "100",
        "-b",
        f"127.0.0.1:{port}",
        "watchwall.roles.wsgi:app",
    ],
}


@pytest.mark.postgres
@pytest.mark.parametrize("how", list(COMMAND_LINES))
def test_web_role_serves_pages_and_delivers_events_published_on_redis(how, postgres, tmp_path):
    database_url = postgres.migrated("ww_web")
    engine = make_engine(database_url)
    add_user(engine, "command", PASSWORD, "city_command", [], {"qinzhou"} | {"maiji"})
    engine.dispose()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            COMMAND_LINES[how](port),
            env=web_env(tmp_path / "data", database_url),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    client = socketio.Client(reconnection=False)
    try:
        try:
            wait_http(f"{url}/login", 120)
        except TimeoutError:
            pytest.fail(f"{how} did not start:\n{log_path.read_text()[-3000:]}")
        session = log_in(url, "command")
        assert session.get(f"{url}/wall", timeout=30).status_code == 200
        assert session.get(f"{url}/assets/live-player.js", timeout=10).status_code == 200

        heard: list[dict] = []
        client.on("cameras.changed", heard.append)
        cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
        client.connect(url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
        marker = uuid.uuid4().hex
        sink = RedisSink(REDIS_URL)  # what an ingest process of another machine emits through
        deadline = time.monotonic() + 20
        while not any(event.get("marker") == marker for event in heard) and time.monotonic() < deadline:
            sink.emit("cameras.changed", {"centre": "qinzhou", "marker": marker}, room="qinzhou")
            time.sleep(0.5)
        assert any(event.get("marker") == marker for event in heard), heard
    finally:
        if client.connected:
            client.disconnect()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
