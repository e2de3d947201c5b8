"""Push latency of an incident change to 20 connected pages, against a plain socket.io round trip.

    .venv/bin/python benchmarks/incidents/push_latency.py [--clients 20] [--rounds 300]

A real ``watchwall serve --no-ingest`` (its own process, Flask-SocketIO as shipped) on a throwaway
PostgreSQL database; N python-socketio clients (WebSocket, logged in through the form as city
command, so each joins every centre's room) in this process. Rounds alternate, one of each kind,
so that the machine's load falls on both alike:

- baseline: one client's ``incidents.open`` call and its answer (a socket.io round trip through the
  server's handler, its access check and one small query): the floor of any server push here;
- change: one client sends ``incident.act`` (a comment on an open qinzhou incident); the server
  writes the change and its audit row, then pushes ``incident.changed`` to every client. Latency per
  client = its arrival of that version - the send time, so it includes the request's way in and the
  database write: an upper bound of "from the change to the page".

p50/p99 over every delivery (clients x rounds) and over the baseline round trips; the ratio of the
p99s. The clients share this process's GIL: their arrival times carry that queueing too (for both
kinds alike). Writes benchmarks/out/incident_push_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
import socketio
from services import free_port, throwaway_services

from watchwall.config.database import make_engine
from watchwall.config.incident_settings import IncidentSettings
from watchwall.dashboard.accounts import add_user
from watchwall.incidents.store import open_incident

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for the tests' login
from tests.support.form_login import cookie_header, form_login  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out"
PASSWORD = "benchmark password 1"
COUNTIES = {"qinzhou", "maiji", "qingshui", "qinan", "gangu", "wushan", "zhangjiachuan"}
WAIT_S = 10.0  # a round waits this long at most for every client's delivery


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Page:
    """One logged-in page's socket: records when each version of an incident arrived."""

    def __init__(self, url: str) -> None:
        cookie = cookie_header(form_login(url, "bench", PASSWORD, expect_success=True))
        self.arrived: dict[int, float] = {}
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("incident.changed", self._changed)
        # no Origin of our own: the WebSocket client sends one itself (two would not match the host)
        self.sio.connect(url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=20)

    def _changed(self, summary) -> None:
        self.arrived[summary["version"]] = time.time()


def serve(url: str, data_dir: Path, port: int) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHWALL_")}
    env.update({"WATCHWALL_DATA_DIR": str(data_dir), "WATCHWALL_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"})
    log = (data_dir / "serve.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "watchwall.roles.cli", "serve", "--port", str(port), "--no-ingest"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"watchwall serve did not start; see {data_dir / 'serve.log'}")


def run(clients: int, rounds: int, gap_s: float) -> dict:
    server = None
    pages: list[Page] = []
    with throwaway_services("ww_bench_push", redis=False) as services:
        try:
            url, data_dir = services.database_url, services.data_dir
            engine = make_engine(url)
            add_user(engine, "bench", PASSWORD, "city_command", [], COUNTIES)
            incident = open_incident(
                engine, IncidentSettings(), kind="offline", county="qinzhou", camera_id="qinzhou-checkin-1"
            )
            engine.dispose()
            port = free_port()
            server = serve(url, data_dir, port)
            base = f"http://127.0.0.1:{port}"
            pages = [Page(base) for _ in range(clients)]
            actor = pages[0]
            time.sleep(1.0)
            round_trips, deliveries, acks, missing = [], [], [], 0
            version = incident["version"]
            for number in range(rounds):
                started = time.time()
                answer = actor.sio.call("incidents.open", {}, timeout=WAIT_S)
                round_trips.append(time.time() - started)
                assert answer["ok"], answer
                time.sleep(gap_s)

                sent = time.time()
                answer = actor.sio.call(
                    "incident.act",
                    {"id": incident["id"], "action": "comment", "note": f"bench {number}"},
                    timeout=WAIT_S,
                )
                acks.append(time.time() - sent)
                assert answer["ok"], answer
                version = answer["incident"]["version"]
                deadline = time.monotonic() + WAIT_S
                while time.monotonic() < deadline and not all(version in page.arrived for page in pages):
                    time.sleep(0.002)
                for page in pages:
                    if version in page.arrived:
                        deliveries.append(page.arrived[version] - sent)
                    else:
                        missing += 1
                time.sleep(gap_s)
            return {
                "clients": clients,
                "rounds": rounds,
                "baseline_round_trip_p50_ms": round(1000 * statistics.median(round_trips), 1),
                "baseline_round_trip_p99_ms": round(1000 * percentile(round_trips, 0.99), 1),
                "change_push_deliveries": len(deliveries),
                "change_push_missing": missing,
                "change_push_p50_ms": round(1000 * statistics.median(deliveries), 1),
                "change_push_p99_ms": round(1000 * percentile(deliveries, 0.99), 1),
                "change_push_max_ms": round(1000 * max(deliveries), 1),
                "actor_ack_p50_ms": round(1000 * statistics.median(acks), 1),
                "actor_ack_p99_ms": round(1000 * percentile(acks, 0.99), 1),
                "ratio_p99": round(percentile(deliveries, 0.99) / percentile(round_trips, 0.99), 2),
                "load_average": [round(value, 1) for value in os.getloadavg()],
            }
        finally:
            for page in pages:
                page.sio.disconnect()
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between two measurements")
    args = parser.parse_args()
    report = run(args.clients, args.rounds, args.gap)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "incident_push_latency.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
