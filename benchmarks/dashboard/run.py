"""Dashboard speed: push latency to 20 socket.io clients, and the wall's time to first live frame.

    .venv/bin/python benchmarks/dashboard/run.py [--clients 20] [--events 300] [--tiles 16]

Push: a real ``watchwall serve`` process (threading server, simple-websocket) configured with
the Redis message queue, as web nodes run at scale; N python-socketio clients log in through
the form and connect over WebSocket; this process emits ``camera.status`` events through
``watchwall.video.state.events.RedisSink`` (what an ingest node does), stamped with their send time (same
machine's clock); each client records arrival - send. Baseline side by side in the same run:
one client only.

First frame: the same serve with the shipped demo site (every camera pulled and online), the
wall set to 16 tiles; Debian Chromium logs in as city command, reloads /wall, and each tile's
first decoded frame is timed from navigation start (requestVideoFrameCallback), and from the
moment the tiles exist in the page (what a tour page switch costs). Per tile, the steps on the
way are timed too (tile created, WebSocket created and open, first message, MediaSource open,
first frame), by a script installed before the page's own. Baseline: a wall with one tile, in
the same run.
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
sys.path.insert(0, str(ROOT))  # the repository, for the tests' login
from tests.support.form_login import cookie_header, form_login  # noqa: E402

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
            [sys.executable, "-m", "watchwall.roles.cli", *args],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )

    def start(self) -> None:
        args = ["serve", "--port", str(self.port), "--no-record"] + ([] if self.ingest else ["--no-ingest"])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watchwall.roles.cli", *args],
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
        return form_login(self.url, username, PASSWORD)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def push_latency(serve: Serve, clients: int, events: int) -> dict:
    received: list[list[float]] = [[] for _ in range(clients)]
    sockets = []
    cookie = cookie_header(serve.session("command"))
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
    from watchwall.video.state.events import RedisSink

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


# Installed before the wall's scripts run: per tile, when each step towards its first picture
# happened (ms from navigation start), without touching the player itself.
TIMELINE = """(() => {
  const tiles = window.__firstFrames = {};
  const now = () => performance.now();
  const camerasOf = (url) => {  // /live/<camera>, or /live?cameras=a,b,c for a page of tiles
    const parsed = new URL(url, location.href);
    if (parsed.pathname.startsWith('/live/')) return [decodeURIComponent(parsed.pathname.slice(6))];
    if (parsed.pathname === '/live') return (parsed.searchParams.get('cameras') || '').split(',');
    return [];
  };
  const stamp = (camera, step) => {
    const tile = (tiles[camera] = tiles[camera] || {});
    if (tile[step] === undefined) tile[step] = now();
  };
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const socket = new NativeWebSocket(url, protocols);
    const cameras = camerasOf(url);
    cameras.forEach((camera) => stamp(camera, 'ws_created'));
    socket.addEventListener('open', () => cameras.forEach((camera) => stamp(camera, 'ws_open')));
    socket.addEventListener('message', (event) => {
      let index = 0;
      if (cameras.length > 1) {
        index = typeof event.data === 'string' ? JSON.parse(event.data).tile : new Uint8Array(event.data, 0, 1)[0];
      }
      if (cameras[index] !== undefined) stamp(cameras[index], 'first_message');
    });
    return socket;
  };
  window.WebSocket.prototype = NativeWebSocket.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  const sources = new Map();
  const nativeObjectUrl = URL.createObjectURL;
  URL.createObjectURL = (object) => {
    const url = nativeObjectUrl(object);
    if (object instanceof MediaSource) {
      sources.set(url, object);
      object.addEventListener('sourceopen', () => { object.openedAt = now(); }, {once: true});
    }
    return url;
  };
  const seen = new WeakSet();
  const watch = () => document.querySelectorAll('.tile video[data-live-camera]').forEach((video) => {
    if (seen.has(video)) return;
    seen.add(video);
    const camera = video.getAttribute('data-live-camera');
    stamp(camera, 'tile_created');
    video.addEventListener('loadstart', () => {
      const source = sources.get(video.src);
      if (source) source.addEventListener('sourceopen', () => stamp(camera, 'sourceopen'), {once: true});
    });
    const first = () => stamp(camera, 'first_frame');
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(first);
    else video.addEventListener('playing', first, {once: true});
  });
  document.addEventListener('DOMContentLoaded', () => {
    new MutationObserver(watch).observe(document.body, {childList: true, subtree: true});
    watch();
  });
})();"""

FIRST_FRAMES = """async (count) => {
  const deadline = Date.now() + 60000;
  const framed = () => Object.values(window.__firstFrames).filter(t => t.first_frame !== undefined);
  while (framed().length < count && Date.now() < deadline) await new Promise(r => setTimeout(r, 50));
  return window.__firstFrames;
}"""
STEPS = ("tile_created", "ws_created", "ws_open", "first_message", "sourceopen", "first_frame")


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
        context.add_init_script(TIMELINE)
        page.reload()  # time a fresh navigation of the wall itself
        timelines = list(page.evaluate(FIRST_FRAMES, tiles).values())
        browser.close()
    played = [tile for tile in timelines if "first_frame" in tile]
    seconds = [tile["first_frame"] / 1000 for tile in played]
    after_tiles = [(tile["first_frame"] - tile["tile_created"]) / 1000 for tile in played]
    return {
        "tiles": tiles,
        "cameras_pulled": cameras,
        "played": len(played),
        "median_s": statistics.median(seconds),
        "max_s": max(seconds),
        "after_tiles_exist_median_s": statistics.median(after_tiles),
        "after_tiles_exist_max_s": max(after_tiles),
        # each step's median and max over the tiles, ms from navigation start
        "steps_ms": {
            step: {
                "median": round(statistics.median(values)),
                "max": round(max(values)),
            }
            for step in STEPS
            if (values := [tile[step] for tile in played if step in tile])
        },
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
