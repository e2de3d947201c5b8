"""Dashboard speed: push latency to 20 socket.io clients, and the wall's time to first live frame.

    .venv/bin/python benchmarks/dashboard/run.py [--clients 20] [--events 300] [--tiles 16]

Push: a real ``watchwall serve`` process (threading server, simple-websocket) configured with
the Redis message queue, as web nodes run at scale; N python-socketio clients log in through
the form and connect over WebSocket; this process emits ``camera.status`` events through
``video.events.RedisSink`` (what an ingest node does), stamped with their send time (same
machine's clock); each client records arrival - send. Baseline side by side in the same run:
one client only.

First frame: the same serve with the shipped demo site (every camera pulled and online), the
wall set to 16 tiles; Debian Chromium logs in as city command, reloads /wall, and each tile's
first decoded frame is timed from navigation start (requestVideoFrameCallback), and from the
moment the tiles exist in the page (what a tour page switch costs). Baseline: a wall with one
tile, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "benchmark password 1"
REDIS_URL = "redis://127.0.0.1:6379/7"  # a database of its own: nothing else listens there


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Serve:
    def __init__(self, data_dir: Path, extra_env: dict[str, str] | None = None, ingest: bool = False) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHWALL_")}
        self.env.update({"WATCHWALL_DATA_DIR": str(data_dir), "BENCH_PW": PASSWORD}, **(extra_env or {}))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ingest = ingest
        self.log = (data_dir / "serve.log").open("ab")

    def cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "dashboard.cli", *args],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )

    def start(self) -> None:
        args = ["serve", "--port", str(self.port), "--no-record"] + ([] if self.ingest else ["--no-ingest"])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", *args],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/login", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("serve did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)

    def session(self, username: str) -> requests.Session:
        session = requests.Session()
        token = re.search(r'name="csrf" value="([^"]+)"', session.get(f"{self.url}/login").text).group(1)
        session.post(
            f"{self.url}/login",
            data={"csrf": token, "username": username, "password": PASSWORD},
            headers={"Origin": self.url},
            allow_redirects=False,
            timeout=10,
        )
        return session


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def push_latency(serve: Serve, clients: int, events: int) -> dict:
    received: list[list[float]] = [[] for _ in range(clients)]
    sockets = []
    cookie = "; ".join(f"{k}={v}" for k, v in serve.session("command").cookies.items())
    for index in range(clients):
        client = socketio.Client(reconnection=False)
        client.on("camera.status", lambda payload, i=index: received[i].append(time.time() - payload["sent"]))
        client.connect(
            serve.url,
            headers={"Cookie": cookie, "Origin": serve.url},
            transports=["websocket"],
            wait_timeout=10,
        )
        sockets.append(client)
    from video.events import RedisSink

    sink = RedisSink(REDIS_URL)
    time.sleep(1.0)  # let every client's room joins settle
    for sequence in range(events):
        sink.emit(
            "camera.status",
            {
                "camera_id": "bench",
                "centre": "qinzhou",
                "state": "online",
                "sequence": sequence,
                "sent": time.time(),
            },
            room="qinzhou",
        )
        time.sleep(0.02)
    deadline = time.monotonic() + 10
    while sum(map(len, received)) < clients * events and time.monotonic() < deadline:
        time.sleep(0.05)
    for client in sockets:
        client.disconnect()
    latencies = [value * 1000 for per_client in received for value in per_client]
    return {
        "clients": clients,
        "events": events,
        "delivered": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
    }


FIRST_FRAMES = """async (count) => {
  const start = performance.timeOrigin;
  const deadline = Date.now() + 60000;
  while (document.querySelectorAll('.tile video').length < count && Date.now() < deadline)
    await new Promise(r => setTimeout(r, 50));
  const videos = [...document.querySelectorAll('.tile video')].slice(0, count);
  const tilesAt = performance.now();
  const firsts = await Promise.all(videos.map(v => new Promise(resolve => {
    const done = () => resolve([performance.now(), tilesAt]);
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(done); else v.addEventListener('playing', done, {once: true});
    setTimeout(() => resolve(null), 60000);
  })));
  return firsts;
}"""


def wait_cameras_online(serve: Serve, timeout: float = 180.0) -> int:
    """The wall is timed on a running installation: every camera pulled, not the server's first seconds."""
    deadline = time.monotonic() + timeout
    online = 0
    while time.monotonic() < deadline:
        text = requests.get(f"{serve.url}/metrics", timeout=5).text
        found = re.search(r'^watchwall_cameras\{state="online"\} (\S+)$', text, re.M)
        total = sum(float(v) for v in re.findall(r'^watchwall_cameras\{state="[a-z]+"\} (\S+)$', text, re.M))
        online = int(float(found.group(1))) if found else 0
        if total and online == total:
            time.sleep(5)  # a few keyframes into every stream
            return online
        time.sleep(1)
    raise RuntimeError(f"only {online} cameras online")


def first_frames(serve: Serve, tiles: int) -> dict:
    from playwright.sync_api import sync_playwright

    cameras = wait_cameras_online(serve)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--disable-background-networking",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        page.goto(f"{serve.url}/login")
        page.fill("input[name=username]", "command")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/wall", timeout=60_000)
        page.reload()  # time a fresh navigation of the wall itself
        firsts = page.evaluate(FIRST_FRAMES, tiles)
        browser.close()
    seconds = [value[0] / 1000 for value in firsts if value is not None]
    after_tiles = [(value[0] - value[1]) / 1000 for value in firsts if value is not None]
    return {
        "tiles": tiles,
        "cameras_pulled": cameras,
        "played": len(seconds),
        "median_s": statistics.median(seconds),
        "max_s": max(seconds),
        "after_tiles_exist_median_s": statistics.median(after_tiles),
        "after_tiles_exist_max_s": max(after_tiles),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--tiles", type=int, default=16)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        serve = Serve(data, {"WATCHWALL_REDIS_URL": REDIS_URL})
        serve.cli("user", "add", "command", "--role", "city_command", "--password-env", "BENCH_PW")
        serve.start()
        try:
            results["push_1_client"] = push_latency(serve, 1, args.events)
            results[f"push_{args.clients}_clients"] = push_latency(serve, args.clients, args.events)
        finally:
            serve.stop()
        for tiles in (1, args.tiles):
            wall = Serve(data, {"WATCHWALL_WALL_TILES": str(tiles)}, ingest=True)
            wall.start()
            try:
                results[f"first_frame_{tiles}_tiles"] = first_frames(wall, tiles)
            finally:
                wall.stop()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
