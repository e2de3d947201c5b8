"""Incidents must not slow the ingest: 200 cameras flapping every 10 s, with and without incidents.

    .venv/bin/python benchmarks/incidents/run.py [--shape serve|node] [--clients-kind socketio|raw] \
        [--cameras 200] [--period 10] [--seconds 120] [--slice 20] [--clients 20] \
        [--client-processes 2] [--client-cpus 1] [--out FILE]

Each camera is a thread, as the ingest's readers are, that every ``period`` seconds loses its video
and gets it back, emitting ``camera.status`` and ``camera.alarm`` (raised, then cleared) through the
ingest's event sink (``flapping.py``). Two sinks, alternated in slices (A B A B ...) so that the
machine's load falls on both alike: baseline, the plain sink (no incidents); incidents, the
intake's ``IncidentSink`` around it, as the product wires it (the alarm is emitted first, then put
on the intake's queue; the intake's own thread applies each batch to PostgreSQL, one incident per
camera, counted, and pushes ``incident.changed``). A ``redis-server`` of the benchmark's own on a
free loopback port carries Flask-SocketIO's message queue; a throwaway PostgreSQL database.

Two deployment shapes (``--shape``):

- ``serve``: one process, as ``watchwall serve`` runs: the real dashboard (``create_app``,
  Flask-SocketIO on the threading server, the message queue on), the camera threads emitting
  through ``SocketIOSink`` and the intake, all on one GIL.
- ``node``: as a cluster runs: the camera threads and the intake in a process of their own
  (``node_process.py``, wired as ``roles/node.py`` wires it: ``RedisSink``, ``IncidentIntake`` with
  ``report_callback`` and ``publish_through``), and a real ``watchwall web`` (gunicorn, one worker,
  threads) that only relays the Redis messages to the pages.

The N clients (WebSocket, logged in through the form as city command, so each joins every centre's
room) run in ``--client-processes`` processes of their own: python-socketio's client
(``--clients-kind socketio``) or engine.io spoken by hand (``raw``: one reader thread per page, the
time read as the frame arrives). One more process subscribes to the Redis channel itself: when the
alarm was on Redis, before the web process's relay.

Latency: each ``camera.alarm`` carries ``sent``, ``time.time()`` read on the camera's thread just
before ``emit``; a client's latency is ``time.time()`` on arrival minus ``sent``, both read from
the same host's clock (CLOCK_REALTIME, one machine). ``incident.changed`` latency is measured from
the ``sent`` of that camera's last alarm (so it includes the intake's batch window).

Measured per slice and per mode: the CPU time of the camera threads (what the ingest's threads spend
emitting) per event and per camera; the server process's CPU per camera (serve: every thread of the
one process; node: the web process, with the node process's own CPU apart); the intake thread's;
push latency p50/p99 over every delivery. Each slice's figures are listed too (the rounds), with
the load average at its end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis
import socketio
import websocket
import yaml
from flapping import (
    Sinks,
    cpu_seconds,
    make_site,
    per_slice_totals,
    process_tree_cpu_seconds,
    site_document,
    start_cameras,
    thread_cpu_seconds,
)
from services import free_port, throwaway_services, wait_for
from sqlalchemy import text

from watchwall.config.database import make_engine
from watchwall.config.incident_settings import IncidentSettings
from watchwall.config.settings import Settings
from watchwall.dashboard.accounts import add_user
from watchwall.dashboard.app import create_app
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.incident_service import place_finder, publisher
from watchwall.incidents.intake import IncidentIntake
from watchwall.incidents.store import report_callback
from watchwall.video.state.events import DEFAULT_CHANNEL, SocketIOSink

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for the tests' login
from tests.support.form_login import cookie_header, form_login  # noqa: E402

PASSWORD = "benchmark password 1"
MODES = ("baseline", "incidents")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- the clients' processes ------------------------------------------------------------------------


def log_in(url: str, username: str) -> str:
    """The session cookie of a user logged in through the form."""
    return cookie_header(form_login(url, username, PASSWORD, expect_success=True))


class Client:
    """One logged-in page's socket: the latency of every ``camera.alarm`` and ``incident.changed``."""

    def __init__(self, url: str, username: str) -> None:
        self.alarms: list[tuple[int, float]] = []  # (slice, seconds)
        self.incidents: list[tuple[int, float]] = []
        self.last_alarm: dict[str, tuple[int, float]] = {}  # camera -> (slice, sent)
        cookie = log_in(url, username)
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("camera.alarm", self._alarm)
        self.sio.on("incident.changed", self._incident)
        # no Origin of our own: the WebSocket client sends one itself (two would not match the host)
        self.sio.connect(url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=30)

    def disconnect(self) -> None:
        self.sio.disconnect()

    def _alarm(self, payload) -> None:
        now = time.time()
        self.alarms.append((payload["slice"], now - payload["sent"]))
        self.last_alarm[payload["camera_id"]] = (payload["slice"], payload["sent"])

    def _incident(self, payload) -> None:
        now = time.time()
        last = self.last_alarm.get(payload.get("camera_id"))
        if last is not None:
            self.incidents.append((last[0], now - last[1]))


class RawClient(Client):
    """A page's socket spoken by hand (engine.io 4 over one WebSocket): the time read as the frame
    arrives, on the one thread that reads it, as a browser's native WebSocket would.

    python-socketio's client starts a thread for every message it receives (engine.io's
    ``run_async``); ten of them in a process at 800 messages a second put the load generator's own
    thread starts and GIL waits into the figure."""

    def __init__(self, url: str, username: str) -> None:
        self.alarms, self.incidents, self.last_alarm = [], [], {}
        cookie = log_in(url, username)
        address = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(address, header=[f"Cookie: {cookie}"], timeout=30)
        if not self.ws.recv().startswith("0"):  # engine.io's open packet
            raise SystemExit("no engine.io handshake")
        self.ws.send("40")  # socket.io connect, namespace /
        for _ in range(10):  # the connect handler's own emits (the camera snapshot) may come first
            frame = self.ws.recv()
            if frame.startswith("40"):
                break
            if frame.startswith("44"):
                raise SystemExit(f"socket.io refused the connection: {frame}")
        else:
            raise SystemExit("socket.io did not answer the connection")
        self.ws.settimeout(None)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                frame = self.ws.recv()
            except (websocket.WebSocketException, OSError):
                return
            now = time.time()
            if frame == "2":  # engine.io ping
                self.ws.send("3")
            elif frame.startswith("42"):
                event, payload = json.loads(frame[2:])[:2]
                if event == "camera.alarm":
                    self.alarms.append((payload["slice"], now - payload["sent"]))
                    self.last_alarm[payload["camera_id"]] = (payload["slice"], payload["sent"])
                elif event == "incident.changed":
                    last = self.last_alarm.get(payload.get("camera_id"))
                    if last is not None:
                        self.incidents.append((last[0], now - last[1]))

    def disconnect(self) -> None:
        self.ws.close()


class RedisLeg(threading.Thread):
    """A subscriber of the message queue's channel: when each ``camera.alarm`` is on Redis.

    ``time.time()`` on its arrival minus the alarm's ``sent``: the publisher's way to Redis and back
    out, without the web process's relay, its WebSocket writers or a page's decoding."""

    def __init__(self, redis_url: str) -> None:
        super().__init__(name="redis-leg", daemon=True)
        self.pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(DEFAULT_CHANNEL)
        self.latencies: list[tuple[int, float]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            message = self.pubsub.get_message(timeout=0.5)
            if message is None:
                continue
            now = time.time()
            data = json.loads(message["data"])
            if data.get("method") == "emit" and data.get("event") == "camera.alarm":
                payload = data["data"][0]
                self.latencies.append((payload["slice"], now - payload["sent"]))


def client_worker(url: str, clients: int, out: Path, redis_url: str | None, kind: str) -> int:
    """Connects ``clients`` pages, says ``ready``, records until stdin closes, writes ``out``."""
    page_class = RawClient if kind == "raw" else Client
    pages = [page_class(url, "bench") for _ in range(clients)]
    leg = RedisLeg(redis_url) if redis_url else None
    if leg is not None:
        leg.start()
    print("ready", flush=True)
    cpu, started = cpu_seconds(), time.monotonic()
    sys.stdin.read()  # the parent closes our stdin when the measurement is over
    cpu_pct = 100 * (cpu_seconds() - cpu) / (time.monotonic() - started)
    if leg is not None:
        leg.stopped.set()
        leg.join(2)
    for page in pages:
        page.disconnect()
    out.write_text(
        json.dumps(
            {
                "alarms": [item for page in pages for item in page.alarms],
                "incidents": [item for page in pages for item in page.incidents],
                "redis_leg": leg.latencies if leg is not None else [],
                "cpu_pct_core": round(cpu_pct, 1),
            }
        )
    )
    return 0


# --- the server's side, in either shape ------------------------------------------------------------


class ServeShape:
    """``watchwall serve``: one process holds the dashboard, the camera threads and the intake."""

    name = "serve"

    def __init__(self, args, url: str, redis_url: str, data_dir: Path, engine) -> None:
        settings = Settings(
            data_dir=data_dir,
            database_url=url,
            redis_url=redis_url,
            incidents=IncidentSettings(push_every_s=args.push_every),
        )
        site = make_site(args.cameras)
        context = AppContext(settings=settings, site=site, engine=engine)
        app = create_app(context)
        port = free_port()
        threading.Thread(
            target=context.socketio.run,
            args=(app.server,),
            kwargs={"host": "127.0.0.1", "port": port, "allow_unsafe_werkzeug": True, "log_output": False},
            daemon=True,
        ).start()
        self.server = f"http://127.0.0.1:{port}"
        wait_for(self.server)
        self.intake = IncidentIntake(
            report_callback(engine, settings.incidents),
            place_finder(context),
            publisher(context),
            batch_s=settings.incidents.batch_s,
            push_every_s=settings.incidents.push_every_s,
        ).start()
        plain = SocketIOSink(context.socketio)
        self.sinks = Sinks(plain, self.intake.sink(plain))
        self.stop_cameras = threading.Event()
        self.site, self.period = site, args.period
        self.cameras = []

    def start_cameras(self) -> None:
        self.cameras = start_cameras(self.site, self.sinks, self.period, self.stop_cameras)

    def cpu(self) -> dict[str, float]:
        return {"server_cpu_s": cpu_seconds(), "intake_cpu_s": thread_cpu_seconds(self.intake._thread)}

    def switch(self, number: int, mode: str) -> None:
        self.sinks.switch(number, mode)

    def finish(self) -> tuple[dict, dict, dict]:
        """Stops the cameras; per slice, what the camera threads spent; the intake's counters."""
        self.sinks.slice = -2  # cool-down: not counted
        self.stop_cameras.set()
        self.intake.stop()
        intake = self.intake
        counters = {
            "batches": intake.batches,
            "dropped": intake.dropped,
            "pushes": intake.pushes.pushes,
            "coalesced": intake.pushes.coalesced,
        }
        return per_slice_totals(self.cameras), {}, counters

    def close(self) -> None:
        self.stop_cameras.set()


class NodeShape:
    """``watchwall node`` + ``watchwall web``: the cameras and the intake in a node's process
    (``node_process.py``), publishing through Redis; a real ``watchwall web`` (gunicorn, one worker)
    relays to the pages."""

    name = "node"

    def __init__(self, args, url: str, redis_url: str, data_dir: Path, engine) -> None:
        site_file = data_dir / "site.yaml"
        site_file.write_text(yaml.safe_dump(site_document(args.cameras), allow_unicode=True))
        (data_dir / "web").mkdir()
        env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHWALL_")}
        env.update(
            WATCHWALL_DATA_DIR=str(data_dir / "web"),
            WATCHWALL_DATABASE_URL=url,
            WATCHWALL_REDIS_URL=redis_url,
            WATCHWALL_SECRET_KEY_FILE=str(data_dir / "secret_key"),
        )
        port = free_port()
        self.web_log = (data_dir / "web.log").open("wb")
        self.web = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("watchwall")),
                "web",
                "--port",
                str(port),
                "--site",
                str(site_file),
            ],
            env=env,
            stdout=self.web_log,
            stderr=subprocess.STDOUT,
        )
        self.server = f"http://127.0.0.1:{port}"
        wait_for(self.server, seconds=60)
        self.node_out = data_dir / "node.json"
        self.node = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("node_process.py")),
                url,
                redis_url,
                str(args.cameras),
                str(args.period),
                str(args.push_every),
                str(self.node_out),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.node_slices: list[dict] = []

    def start_cameras(self) -> None:
        if self.node.stdout.readline().strip() != "ready":
            raise SystemExit("the node process did not start")

    def cpu(self) -> dict[str, float]:
        return {"server_cpu_s": process_tree_cpu_seconds(self.web.pid)}

    def switch(self, number: int, mode: str) -> None:
        self.node.stdin.write(f"{number} {mode}\n")
        self.node.stdin.flush()
        if self.node.stdout.readline().strip() != f"slice {number}":
            raise SystemExit("the node process did not switch")

    def finish(self) -> tuple[dict, dict, dict]:
        self.node.stdin.write("stop\n")
        self.node.stdin.close()
        self.node.wait(timeout=60)
        report = json.loads(self.node_out.read_text())
        cameras = {int(number): totals for number, totals in report["cameras"].items()}
        node_slices = {entry["slice"]: entry for entry in report["slices"]}
        return cameras, node_slices, report["intake"]

    def close(self) -> None:
        for process in (self.node, self.web):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.web_log.close()


# --- the figures -----------------------------------------------------------------------------------


def slice_figures(entries: list[dict], cameras: dict, records: dict, count: int) -> dict:
    """The figures of a set of slices (one mode's, or one slice)."""
    numbers = {entry["slice"] for entry in entries}
    seconds = sum(entry["seconds"] for entry in entries)
    thread_cpu = sum(cameras.get(n, {}).get("cpu_s", 0.0) for n in numbers)
    events = sum(cameras.get(n, {}).get("events", 0) for n in numbers)
    latencies = [value for number, value in records["alarms"] if number in numbers]
    redis_leg = [value for number, value in records["redis_leg"] if number in numbers]
    figures = {
        "seconds": round(seconds, 1),
        "events_emitted": events,
        "camera_thread_cpu_us_per_event": round(1e6 * thread_cpu / max(events, 1), 1),
        "camera_thread_cpu_pct_core_per_camera": round(100 * thread_cpu / seconds / count, 5),
        "server_process_cpu_pct_core_per_camera": round(
            100 * sum(entry["server_cpu_s"] for entry in entries) / seconds / count, 4
        ),
        "intake_thread_cpu_pct_core_per_camera": round(
            100 * sum(entry["intake_cpu_s"] for entry in entries) / seconds / count, 4
        ),
        "alarm_push_deliveries": len(latencies),
        "alarm_push_p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "alarm_push_p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "alarm_on_redis_p50_ms": round(1000 * statistics.median(redis_leg), 1) if redis_leg else None,
        "alarm_on_redis_p99_ms": round(1000 * percentile(redis_leg, 0.99), 1),
    }
    if any("node_cpu_s" in entry for entry in entries):
        figures["node_process_cpu_pct_core_per_camera"] = round(
            100 * sum(entry.get("node_cpu_s", 0.0) for entry in entries) / seconds / count, 4
        )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--shape",
        choices=("serve", "node"),
        default="serve",
        help="serve: one process (cameras, intake, web); node: the cameras and the intake in a node's "
        "process publishing through Redis, a real `watchwall web` relaying to the clients",
    )
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--period", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=120.0, help="in total, both modes")
    parser.add_argument("--slice", type=float, default=20.0, help="seconds of one mode before switching")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument(
        "--push-every", type=float, default=IncidentSettings().push_every_s, help="incidents.push_every_s"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    parser.add_argument(
        "--client-cpus",
        default=None,
        help="CPUs the client processes run on, e.g. '1' (the load generator kept off the server's "
        "cores, as a benchmark's clients would be on machines of their own); the server process and "
        "its redis-server take the other CPUs",
    )
    parser.add_argument(
        "--clients-kind",
        choices=("socketio", "raw"),
        default="socketio",
        help="socketio: python-socketio's client (a thread per message received); raw: engine.io spoken "
        "by hand, one reader thread per page, the time read as the frame arrives",
    )
    parser.add_argument(
        "--client-worker", nargs=5, metavar=("URL", "CLIENTS", "OUT", "REDIS", "KIND"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.client_worker:
        url, clients, out, redis_url, kind = args.client_worker
        return client_worker(url, int(clients), Path(out), redis_url if redis_url != "-" else None, kind)

    workers, shape = [], None
    client_cpus = server_cpus = None
    if args.client_cpus:
        client_cpus = {int(cpu) for cpu in args.client_cpus.split(",")}
        server_cpus = os.sched_getaffinity(0) - client_cpus
        if not server_cpus:
            raise SystemExit("--client-cpus leaves no CPU for the server")
        os.sched_setaffinity(0, server_cpus)  # every thread and process started from now on inherits it
    with throwaway_services("ww_bench_incidents", redis=True) as services:
        try:
            url, redis_url, data_dir = services.database_url, services.redis_url, services.data_dir
            engine = make_engine(url)
            add_user(
                engine,
                "bench",
                PASSWORD,
                "city_command",
                [],
                {c.code for c in make_site(args.cameras).counties},
            )
            shape = (ServeShape if args.shape == "serve" else NodeShape)(
                args, url, redis_url, data_dir, engine
            )
            shares = [args.clients // args.client_processes] * args.client_processes
            shares[0] += args.clients - sum(shares)
            # the pages' processes, then one more of no page: the Redis subscriber, on a GIL of its own
            for index, share in enumerate([*shares, 0]):
                out = data_dir / f"clients-{index}.json"
                worker = subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--client-worker",
                        shape.server,
                        str(share),
                        str(out),
                        redis_url if share == 0 else "-",
                        args.clients_kind,
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                if client_cpus:
                    os.sched_setaffinity(worker.pid, client_cpus)
                workers.append((worker, out))
            for worker, _ in workers:
                if worker.stdout.readline().strip() != "ready":
                    raise SystemExit("a client process did not connect")
            shape.start_cameras()
            time.sleep(args.period)  # every camera running
            slices: list[dict] = []
            deadline = time.monotonic() + args.seconds
            number = 0
            while time.monotonic() < deadline:
                mode = MODES[number % 2]
                print(f"slice {number}: {mode}", file=sys.stderr, flush=True)
                before, started = shape.cpu(), time.monotonic()
                shape.switch(number, mode)
                time.sleep(args.slice)
                after = shape.cpu()
                entry = {"slice": number, "mode": mode, "seconds": time.monotonic() - started}
                for key in ("server_cpu_s", "intake_cpu_s"):
                    entry[key] = after.get(key, 0.0) - before.get(key, 0.0)
                entry["load_1min"] = round(os.getloadavg()[0], 2)
                slices.append(entry)
                number += 1
            cameras, node_slices, intake = shape.finish()
            for entry in slices:
                node = node_slices.get(entry["slice"])
                if node is not None:  # the node process's own CPU and its intake thread's
                    entry["node_cpu_s"], entry["intake_cpu_s"] = node["process_cpu_s"], node["intake_cpu_s"]
            time.sleep(1)
            records: dict[str, list] = {
                "alarms": [],
                "incidents": [],
                "redis_leg": [],
                "client_cpu_pct_core": [],
            }
            for worker, out in workers:
                worker.stdin.close()
                worker.wait(timeout=60)
                part = json.loads(out.read_text())
                for key in ("alarms", "incidents", "redis_leg"):
                    records[key] += part[key]
                records["client_cpu_pct_core"].append(part["cpu_pct_core"])
            with engine.connect() as connection:
                incidents, counted = connection.execute(
                    text("SELECT count(*), coalesce(sum(count), 0) FROM incidents")
                ).one()
            report = {
                "shape": shape.name,
                "cameras": args.cameras,
                "period_s": args.period,
                "clients": args.clients,
                "client_processes": args.client_processes,
                "clients_kind": args.clients_kind,
                "redis_message_queue": True,
                "client_cpus": sorted(client_cpus) if client_cpus else "any",
                "server_cpus": sorted(server_cpus) if server_cpus else "any",
                "client_processes_cpu_pct_core": records["client_cpu_pct_core"],
                "latency": "client time.time() on arrival - time.time() on the camera thread before emit",
                "modes": {
                    mode: dict(
                        slices=sum(1 for entry in slices if entry["mode"] == mode),
                        **slice_figures(
                            [entry for entry in slices if entry["mode"] == mode],
                            cameras,
                            records,
                            args.cameras,
                        ),
                    )
                    for mode in MODES
                },
                "rounds": [
                    dict(
                        slice=entry["slice"],
                        mode=entry["mode"],
                        load_1min=entry["load_1min"],
                        **slice_figures([entry], cameras, records, args.cameras),
                    )
                    for entry in slices
                ],
            }
            changed = [value for _, value in records["incidents"]]
            report["incidents"] = {
                "rows": incidents,
                "reports_counted": int(counted),
                "intake_batches": intake["batches"],
                "intake_dropped": intake["dropped"],
                "incident_push_deliveries": len(changed),
                "incident_push_p50_ms": round(1000 * statistics.median(changed), 1) if changed else None,
                "incident_push_p99_ms": round(1000 * percentile(changed, 0.99), 1),
                "batch_s": IncidentSettings().batch_s,
                "push_every_s": args.push_every,
                "pushes": intake["pushes"],
                "pushes_coalesced": intake["coalesced"],
            }
            base, inc = report["modes"]["baseline"], report["modes"]["incidents"]
            report["ratios"] = {
                "camera_thread_cpu": round(
                    inc["camera_thread_cpu_us_per_event"] / base["camera_thread_cpu_us_per_event"], 3
                ),
                "server_process_cpu": round(
                    inc["server_process_cpu_pct_core_per_camera"]
                    / base["server_process_cpu_pct_core_per_camera"],
                    3,
                ),
                "alarm_push_p99": round(inc["alarm_push_p99_ms"] / base["alarm_push_p99_ms"], 3),
            }
            if "node_process_cpu_pct_core_per_camera" in base:
                report["ratios"]["node_process_cpu"] = round(
                    inc["node_process_cpu_pct_core_per_camera"]
                    / base["node_process_cpu_pct_core_per_camera"],
                    3,
                )
            report["load_average"] = [round(value, 2) for value in os.getloadavg()]
            text_report = json.dumps(report, indent=2)
            print(text_report)
            if args.out is not None:
                args.out.write_text(text_report + "\n")
            engine.dispose()
        finally:
            if shape is not None:
                shape.close()
            for worker, _ in workers:
                if worker.poll() is None:
                    worker.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
