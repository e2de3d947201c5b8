"""Incidents must not slow the ingest: 200 cameras flapping every 10 s, with and without incidents.

    .venv/bin/python benchmarks/incidents/run.py [--cameras 200] [--period 10] [--seconds 120] [--clients 20]

One process holds the real dashboard (``create_app``: Flask-SocketIO on the threading server, as
``watchwall serve`` runs it) on a throwaway PostgreSQL database, with N python-socketio clients
logged in as city command through the form. Each camera is a thread, as the ingest's readers are,
that every ``period`` seconds loses its video and gets it back, emitting ``camera.status`` and
``camera.alarm`` (raised, then cleared) through the ingest's event sink, stamped with their send
time. Two sinks, alternated in slices (A B A B ...) so that the machine's load falls on both alike:

- baseline: ``SocketIOSink`` alone (today's path, no incidents);
- incidents: ``IncidentSink`` around it: the alarm also goes on the intake's queue, and the intake's
  own thread applies the batch to PostgreSQL (one incident per camera, counted) and pushes
  ``incident.changed``.

Measured: the CPU time of the camera threads (what the ingest's threads spend emitting), per camera;
the process CPU per camera (all threads: server, intake, sockets); push latency of ``camera.alarm``
(send -> every client's arrival), p50/p99; for incidents, also ``incident.changed`` latency from the
alarm's send time (includes the intake's batch window, ``incidents.batch_s``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

import requests
import socketio
from sqlalchemy import create_engine, text

from watchwall.config.database import make_engine, upgrade
from watchwall.config.incident_settings import IncidentSettings
from watchwall.config.settings import Settings
from watchwall.config.site import Site
from watchwall.dashboard.accounts import add_user
from watchwall.dashboard.app import create_app
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.incident_service import place_finder, publisher
from watchwall.incidents.intake import IncidentIntake
from watchwall.incidents.store import report_callback
from watchwall.video.state.events import SocketIOSink

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PASSWORD = "benchmark password 1"
CENTRES = ("tianshui", "qinzhou", "maiji", "qingshui", "qinan", "gangu", "wushan", "zhangjiachuan")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_site(cameras: int) -> Site:
    per_centre: dict[str, list] = {code: [] for code in CENTRES}
    for index in range(cameras):
        code = CENTRES[index % len(CENTRES)]
        per_centre[code].append(
            {"id": f"{code}-cam{index}", "name": f"cam {index}", "rtsp": "rtsp://127.0.0.1:9/x"}
        )
    return Site.model_validate(
        {
            "centres": [
                {
                    "code": code,
                    "name": code,
                    "level": "city" if code == "tianshui" else "county",
                    "rooms": [{"code": "checkin", "name": "报到登记室", "cameras": cams}],
                }
                for code, cams in per_centre.items()
            ]
        }
    )


class Sinks:
    """The sink the camera threads emit through; switched between slices."""

    def __init__(self, plain, with_incidents) -> None:
        self.plain, self.with_incidents = plain, with_incidents
        self.current = plain


class Camera(threading.Thread):
    def __init__(
        self, camera_id: str, centre: str, sinks: Sinks, period: float, stop: threading.Event
    ) -> None:
        super().__init__(name=f"camera-{camera_id}", daemon=True)
        self.camera_id, self.centre, self.sinks, self.period, self.stop = (
            camera_id,
            centre,
            sinks,
            period,
            stop,
        )
        self.cpu = {"baseline": 0.0, "incidents": 0.0}
        self.events = {"baseline": 0, "incidents": 0}
        self.phase = random.random() * period / 2

    def run(self) -> None:
        lost = False
        if self.stop.wait(self.phase):
            return
        while not self.stop.is_set():
            lost = not lost
            sink = self.sinks.current
            mode = "incidents" if sink is self.sinks.with_incidents else "baseline"
            started = time.thread_time()
            now = time.time()
            state = "stalled" if lost else "online"
            sink.emit(
                "camera.status",
                {"camera_id": self.camera_id, "centre": self.centre, "state": state, "sent": now},
                room=self.centre,
            )
            sink.emit(
                "camera.alarm",
                {
                    "camera_id": self.camera_id,
                    "centre": self.centre,
                    "kind": "video_loss",
                    "active": lost,
                    "detail": {"state": "stalled"},
                    "sent": now,
                },
                room=self.centre,
            )
            self.cpu[mode] += time.thread_time() - started
            self.events[mode] += 2
            self.stop.wait(self.period / 2)


class Client:
    def __init__(self, url: str, username: str) -> None:
        self.latency = {"baseline": [], "incidents": [], "incident.changed": []}
        self.mode = "baseline"
        self.last_sent: dict[str, float] = {}
        session = requests.Session()
        page = session.get(f"{url}/login", timeout=10)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        session.post(
            f"{url}/login",
            data={"csrf": token, "username": username, "password": PASSWORD},
            headers={"Origin": url},
            allow_redirects=False,
            timeout=10,
        )
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("camera.alarm", self._alarm)
        self.sio.on("incident.changed", self._incident)
        # no Origin of our own: the WebSocket client sends one itself (two would not match the host)
        self.sio.connect(url, headers={"Cookie": cookie}, transports=["websocket"])

    def _alarm(self, payload) -> None:
        now = time.time()
        self.latency[self.mode].append(now - payload["sent"])
        self.last_sent[payload["camera_id"]] = payload["sent"]

    def _incident(self, payload) -> None:
        sent = self.last_sent.get(payload.get("camera_id"))
        if sent is not None:
            self.latency["incident.changed"].append(time.time() - sent)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--period", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=120.0, help="in total, both modes")
    parser.add_argument("--slice", type=float, default=20.0, help="seconds of one mode before switching")
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()

    name = f"ww_bench_incidents_{os.getpid()}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = f"{PG_SERVER}/{name}"
    data_dir = Path(os.environ.get("TMPDIR", "/tmp")) / name
    data_dir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    try:
        upgrade(url)
        engine = make_engine(url)
        site = make_site(args.cameras)
        add_user(engine, "bench", PASSWORD, "city_command", [], {c.code for c in site.counties})
        settings = Settings(data_dir=data_dir, database_url=url, incidents=IncidentSettings())
        context = AppContext(settings=settings, site=site, engine=engine)
        app = create_app(context)
        port = free_port()
        threading.Thread(
            target=context.socketio.run,
            args=(app.server,),
            kwargs={"host": "127.0.0.1", "port": port, "allow_unsafe_werkzeug": True, "log_output": False},
            daemon=True,
        ).start()
        server = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(f"{server}/login", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        intake = IncidentIntake(
            report_callback(engine, settings.incidents),
            place_finder(context),
            publisher(context),
            batch_s=settings.incidents.batch_s,
        ).start()
        plain = SocketIOSink(context.socketio)
        sinks = Sinks(plain, intake.sink(plain))
        clients = [Client(server, "bench") for _ in range(args.clients)]
        cameras = [
            Camera(place.camera.id, place.centre.code, sinks, args.period, stop) for place in site.cameras()
        ]
        for camera in cameras:
            camera.start()
        time.sleep(args.period)  # every camera running
        process_cpu = {"baseline": 0.0, "incidents": 0.0}
        wall = {"baseline": 0.0, "incidents": 0.0}
        deadline = time.monotonic() + args.seconds
        mode = "baseline"
        while time.monotonic() < deadline:
            sinks.current = sinks.plain if mode == "baseline" else sinks.with_incidents
            for client in clients:
                client.mode = mode
            usage, started = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
            time.sleep(args.slice)
            after = resource.getrusage(resource.RUSAGE_SELF)
            process_cpu[mode] += (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
            wall[mode] += time.monotonic() - started
            mode = "incidents" if mode == "baseline" else "baseline"
        stop.set()
        intake.stop()
        time.sleep(1)
        for client in clients:
            client.sio.disconnect()
        with engine.connect() as connection:
            incidents, counted = connection.execute(
                text("SELECT count(*), coalesce(sum(count), 0) FROM incidents")
            ).one()
        report = {"cameras": args.cameras, "period_s": args.period, "clients": args.clients, "modes": {}}
        for mode in ("baseline", "incidents"):
            thread_cpu = sum(camera.cpu[mode] for camera in cameras)
            events = sum(camera.events[mode] for camera in cameras)
            latencies = [value for client in clients for value in client.latency[mode]]
            report["modes"][mode] = {
                "seconds": round(wall[mode], 1),
                "events_emitted": events,
                "camera_thread_cpu_us_per_event": round(1e6 * thread_cpu / max(events, 1), 1),
                "camera_thread_cpu_pct_core_per_camera": round(
                    100 * thread_cpu / wall[mode] / args.cameras, 5
                ),
                "process_cpu_pct_core_per_camera": round(
                    100 * process_cpu[mode] / wall[mode] / args.cameras, 4
                ),
                "alarm_push_deliveries": len(latencies),
                "alarm_push_p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
                "alarm_push_p99_ms": round(1000 * percentile(latencies, 0.99), 1),
            }
        changed = [value for client in clients for value in client.latency["incident.changed"]]
        report["incidents"] = {
            "rows": incidents,
            "reports_counted": int(counted),
            "intake_batches": intake.batches,
            "intake_dropped": intake.dropped,
            "incident_push_deliveries": len(changed),
            "incident_push_p50_ms": round(1000 * statistics.median(changed), 1) if changed else None,
            "incident_push_p99_ms": round(1000 * percentile(changed, 0.99), 1),
            "batch_s": settings.incidents.batch_s,
        }
        base, inc = report["modes"]["baseline"], report["modes"]["incidents"]
        report["ratios"] = {
            "camera_thread_cpu": round(
                inc["camera_thread_cpu_us_per_event"] / base["camera_thread_cpu_us_per_event"], 3
            ),
            "process_cpu": round(
                inc["process_cpu_pct_core_per_camera"] / base["process_cpu_pct_core_per_camera"], 3
            ),
            "alarm_push_p99": round(inc["alarm_push_p99_ms"] / base["alarm_push_p99_ms"], 3),
        }
        report["load_average"] = os.getloadavg()
        print(json.dumps(report, indent=2))
        engine.dispose()
    finally:
        stop.set()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
