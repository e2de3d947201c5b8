"""Live relay: CPU per viewer-stream through the web role vs straight from the node, and the latency it adds.

One `watchwall node` records and serves one camera of a local GStreamer RTSP server (a
pre-encoded 320x192 10 fps H.264 clip); one `watchwall web` (gunicorn) relays it. In one run:

- idle: CPU of the node and of the web role (all its gunicorn processes) with no viewer;
- direct: ``--viewers`` clients read the node's ``/live`` (framed fMP4, with a token) at once;
- relay: ``--viewers`` browsers' WebSockets read ``/live/<camera>`` of the web role at once;
- latency: one direct client and one relayed client side by side; each fragment's arrival at
  both (matched by its bytes) gives the delay the relay adds.

CPU is utime + stime from /proc over ``--window`` seconds, as % of one core; per viewer-stream
it is (loaded - idle) / viewers. The viewers run in this process (threads), not in the measured ones.

    .venv/bin/python benchmarks/cluster/relay.py --viewers 100 --window 20
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # noqa: E402

from tests.dashboard.conftest import PASSWORD, free_port, wait_http  # noqa: E402
from tests.support.cluster import (  # noqa: E402
    NodeProcess,
    cluster_site,
    cluster_status,
    node_env,
    wait_for,
    write_annexb_clip,
)
from tests.support.form_login import cookie_header, form_login  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.rtsp_process import RtspServerProcess  # noqa: E402
from watchwall.config.database import make_engine  # noqa: E402
from watchwall.config.secret_key import load_or_create_secret  # noqa: E402
from watchwall.dashboard.accounts import add_user  # noqa: E402
from watchwall.roles import live_wire, media_tokens  # noqa: E402

CAMERA = "qz0"
TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def measure(pids: dict[str, int], window: float) -> dict[str, float]:
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    time.sleep(window)
    return {name: round(100 * (cpu_seconds(pid) - before[name]) / window, 2) for name, pid in pids.items()}


class DirectViewer(threading.Thread):
    def __init__(self, address: str, key: bytes, arrivals: dict | None = None) -> None:
        super().__init__(daemon=True)
        self.address, self.key, self.arrivals = address, key, arrivals
        self.stop = threading.Event()
        self.fragments = 0
        self.connection: http.client.HTTPConnection | None = None

    def run(self) -> None:
        host, port = self.address.rsplit(":", 1)
        target = f"/live/{CAMERA}?stream=main"
        self.connection = http.client.HTTPConnection(host, int(port), timeout=10)
        self.connection.request(
            "GET", target, headers={media_tokens.HEADER: media_tokens.sign(self.key, target)}
        )
        response = self.connection.getresponse()
        assert response.status == 200, response.status
        try:
            while not self.stop.is_set():
                message = live_wire.read_message(response)
                if message is None:
                    return
                kind, payload = message
                if kind in (live_wire.FRAGMENT, live_wire.KEYFRAME):
                    self.fragments += 1
                    if self.arrivals is not None:
                        self.arrivals[hashlib.sha1(payload).digest()] = time.monotonic()
        except OSError:
            pass

    def close(self) -> None:
        self.stop.set()
        if self.connection is not None and self.connection.sock is not None:
            self.connection.sock.close()


class RelayedViewer(threading.Thread):
    """A browser's WebSocket on the web role's /live/<camera>, read with a minimal client: a
    pure-Python WebSocket library in this process cannot keep up with 100 streams on two cores,
    and its lag would show as the relay's."""

    def __init__(self, url: str, cookie: str, arrivals: dict | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.cookie, self.arrivals = url, cookie, arrivals
        self.stop = threading.Event()
        self.fragments = 0
        self.jumps = 0
        self.sock: socket.socket | None = None
        self.first_fragment_s: float | None = None  # connect to first binary message (the init)

    def run(self) -> None:
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        started = time.monotonic()
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /live/{CAMERA} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Cookie: {self.cookie}\r\n\r\n"
            ).encode()
        )
        stream = self.sock.makefile("rb")
        status = stream.readline()
        assert b" 101 " in status, status
        while stream.readline() not in (b"\r\n", b""):
            pass
        try:
            while not self.stop.is_set():
                head = stream.read(2)
                if len(head) < 2:
                    return
                opcode, length = head[0] & 0x0F, head[1] & 0x7F
                if length == 126:
                    length = struct.unpack(">H", stream.read(2))[0]
                elif length == 127:
                    length = struct.unpack(">Q", stream.read(8))[0]
                payload = stream.read(length)
                if opcode == 0x1 and b'"jump"' in payload:
                    self.jumps += 1  # fallen behind: the web role cut this viewer to the live edge
                elif opcode == 0x2:
                    self.fragments += 1
                    if self.first_fragment_s is None:
                        self.first_fragment_s = time.monotonic() - started
                    if self.arrivals is not None:
                        self.arrivals[hashlib.sha1(payload).digest()] = time.monotonic()
                elif opcode == 0x9:  # ping: a masked pong (a client's frames are masked)
                    mask = os.urandom(4)
                    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
                    self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
                elif opcode == 0x8:
                    return
        except OSError:
            pass

    def close(self) -> None:
        self.stop.set()
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()


def run_viewers(viewers: list[threading.Thread], settle: float, window: float, pids) -> tuple[dict, int]:
    for viewer in viewers:
        viewer.start()
    time.sleep(settle)
    counted = sum(viewer.fragments for viewer in viewers)
    jumped = sum(getattr(viewer, "jumps", 0) for viewer in viewers)
    receiving = sum(1 for viewer in viewers if viewer.fragments)
    cpu = measure(pids, window)
    fragments = sum(viewer.fragments for viewer in viewers) - counted
    cpu["viewers_receiving_at_start"] = receiving
    per_viewer = sorted(viewer.fragments for viewer in viewers)
    cpu["fragments_per_viewer_min_median_max"] = [
        per_viewer[0],
        per_viewer[len(per_viewer) // 2],
        per_viewer[-1],
    ]
    cpu["jumps_in_window"] = sum(getattr(viewer, "jumps", 0) for viewer in viewers) - jumped
    firsts = sorted(v.first_fragment_s for v in viewers if getattr(v, "first_fragment_s", None) is not None)
    if firsts:
        cpu["first_binary_message_s_p50_max"] = [round(firsts[len(firsts) // 2], 2), round(firsts[-1], 2)]
    load = os.getloadavg()
    cpu["load_average_1m_after"] = round(load[0], 1)
    for viewer in viewers:
        viewer.close()
    for viewer in viewers:
        viewer.join(5)
    time.sleep(2)
    return cpu, fragments


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--latency-seconds", type=float, default=30.0)
    args = parser.parse_args()
    postgres = PostgresServer()
    work = Path(tempfile.mkdtemp(prefix="ww-relay-"))
    clip = write_annexb_clip(work / "clip.h264")
    camera = RtspServerProcess({f"/{CAMERA}": f"file:{clip}"}).start()
    database_url = postgres.migrated("ww_bench_relay")
    engine = make_engine(database_url)
    add_user(engine, "command", PASSWORD, "city_command", [], {"qinzhou"})
    engine.dispose()
    site = cluster_site(
        work / "site.yaml", lambda camera_id: camera.url(f"/{camera_id}"), {"qinzhou": [CAMERA]}
    )
    env = node_env(work / "node-a", database_url, site)
    node = NodeProcess("node-a", work / "node-a", env, ["--listen", "127.0.0.1:0"]).start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    web_env = dict(env, WATCHWALL_DATA_DIR=str(work / "web"))
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "watchwall.roles.cli",
            "web",
            "--port",
            str(port),
            "--threads",
            str(args.viewers + 20),
        ],
        env=web_env,
        stdout=(work / "web.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: cluster_status(env)["cameras"].get(CAMERA, {}).get("owner") == "node-a", 90, "node-a"
        )
        address = {n["name"]: n["address"] for n in cluster_status(env)["nodes"]}["node-a"]
        key = media_tokens.media_key(load_or_create_secret(Path(env["WATCHWALL_SECRET_KEY_FILE"])))
        wait_http(f"{url}/login", 120)
        cookie = cookie_header(form_login(url, "command", PASSWORD, expect_success=True))
        pids = {"node": node.process.pid, "web": web.pid}
        time.sleep(5)
        idle = measure(pids, args.window)
        direct_cpu, direct_fragments = run_viewers(
            [DirectViewer(address, key) for _ in range(args.viewers)], 5, args.window, pids
        )
        relay_cpu, relay_fragments = run_viewers(
            [RelayedViewer(url, cookie) for _ in range(args.viewers)], 5, args.window, pids
        )
        direct_arrivals: dict = {}
        relay_arrivals: dict = {}
        pair = [DirectViewer(address, key, direct_arrivals), RelayedViewer(url, cookie, relay_arrivals)]
        for viewer in pair:
            viewer.start()
        time.sleep(args.latency_seconds)
        for viewer in pair:
            viewer.close()
        added_ms = sorted(
            1000 * (relay_arrivals[digest] - direct_arrivals[digest])
            for digest in set(direct_arrivals) & set(relay_arrivals)
        )
    finally:
        web.terminate()
        try:
            web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            web.kill()
        node.stop()
        camera.kill()
    per_direct = (direct_cpu["node"] - idle["node"]) / args.viewers
    per_relay = (relay_cpu["web"] - idle["web"]) / args.viewers
    result = {
        "viewers": args.viewers,
        "window_s": args.window,
        "cpu_percent_idle": idle,
        "cpu_percent_direct": direct_cpu,
        "cpu_percent_relay": relay_cpu,
        "fragments_per_s_direct": round(direct_fragments / args.window, 1),
        "fragments_per_s_relay": round(relay_fragments / args.window, 1),
        "node_cpu_per_direct_viewer_percent": round(per_direct, 3),
        "web_cpu_per_relayed_viewer_percent": round(per_relay, 3),
        "relay_vs_direct_ratio": round(per_relay / per_direct, 2) if per_direct > 0 else None,
        "relay_node_cpu_over_idle_percent": round(relay_cpu["node"] - idle["node"], 2),
        "added_latency_ms": {
            "fragments": len(added_ms),
            "p50": round(statistics.median(added_ms), 1) if added_ms else None,
            "p95": round(added_ms[int(0.95 * (len(added_ms) - 1))], 1) if added_ms else None,
            "max": round(added_ms[-1], 1) if added_ms else None,
        },
    }
    result["web_log"] = str(work / "web.log")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
