"""Where the web process spends its CPU relaying camera events from Redis to the pages (cProfile).

    .venv/bin/python benchmarks/incidents/relay_profile.py [--cameras 200] [--seconds 60] [--clients 20]

As ``run.py --shape node`` without incidents: the flapping cameras in a node's process
(``node_process.py``, publishing through ``RedisSink``), the pages in processes of their own (engine.io
spoken by hand), and here the real dashboard (``create_app``, Flask-SocketIO with the Redis message
queue, threading mode) relaying. Every thread of this process is profiled with its own thread CPU
clock (``time.thread_time``), so the figures are CPU, not waiting (the pages' connecting is counted
too: a few ms against the run's seconds). Printed: CPU per relayed message,
and the functions with the most CPU of their own, summed over the threads.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import threading
import time
from pathlib import Path

from flapping import make_site
from run import PASSWORD
from services import free_port, throwaway_services, wait_for

from watchwall.config.database import make_engine
from watchwall.config.settings import Settings
from watchwall.dashboard.accounts import add_user
from watchwall.dashboard.app import create_app
from watchwall.dashboard.context import AppContext

PROFILES: list[cProfile.Profile] = []


def profile_this_thread(*_args) -> None:
    """``threading.setprofile`` hook: the new thread's first call starts a profiler of its own."""
    sys.setprofile(None)
    profile = cProfile.Profile(time.thread_time)
    PROFILES.append(profile)
    profile.enable()


# C calls that block: the profiler's timer still counts their wall time in some threads
BLOCKING = ("acquire", "recv", "sleep", "poll", "select", "wait", "accept", "recv_into", "readinto")


def print_own_cpu(stats: pstats.Stats, messages: float, top: int) -> None:
    """The functions with the most CPU of their own (blocking calls left out), per relayed message."""
    rows = [
        (own, calls, f"{Path(file).name}:{line}({function})")
        for (file, line, function), (_, calls, own, _, _) in stats.stats.items()
        if not any(
            function == f"<method '{name}' of '_thread.lock' objects>" or name in function
            for name in BLOCKING
        )
    ]
    rows.sort(reverse=True)
    total = sum(own for own, _, _ in rows)
    print(f"non-blocking own CPU, every thread: {total:.2f} s = {1e6 * total / messages:.0f} us a message")
    print(f"{'us/message':>10} {'calls/message':>13}  function")
    for own, calls, where in rows[:top]:
        print(f"{1e6 * own / messages:10.1f} {calls / messages:13.2f}  {where}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--period", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    children: list[subprocess.Popen] = []
    here = Path(__file__).parent
    with throwaway_services("ww_bench_relay", redis=True) as services:
        try:
            url, redis_url, data_dir = services.database_url, services.redis_url, services.data_dir
            engine = make_engine(url)
            site = make_site(args.cameras)
            add_user(engine, "bench", PASSWORD, "city_command", [], {c.code for c in site.counties})
            settings = Settings(data_dir=data_dir, database_url=url, redis_url=redis_url)
            context = AppContext(settings=settings, site=site, engine=engine)
            threading.setprofile(profile_this_thread)  # every thread started from here on
            app = create_app(context)
            port = free_port()
            threading.Thread(
                target=context.socketio.run,
                args=(app.server,),
                kwargs={
                    "host": "127.0.0.1",
                    "port": port,
                    "allow_unsafe_werkzeug": True,
                    "log_output": False,
                },
                daemon=True,
            ).start()
            server = f"http://127.0.0.1:{port}"
            wait_for(server)
            half = args.clients // 2
            for index, share in enumerate((args.clients - half, half)):
                out = data_dir / f"clients-{index}.json"
                command = [
                    sys.executable,
                    str(here / "run.py"),
                    "--client-worker",
                    server,
                    str(share),
                    str(out),
                    "-",
                    "raw",
                ]
                children.append(
                    subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                )
            for child in children:
                if child.stdout.readline().strip() != "ready":
                    raise SystemExit("a client process did not connect")
            node = subprocess.Popen(
                [
                    sys.executable,
                    str(here / "node_process.py"),
                    url,
                    redis_url,
                    str(args.cameras),
                    str(args.period),
                    "10",
                    str(data_dir / "node.json"),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            children.append(node)
            if node.stdout.readline().strip() != "ready":
                raise SystemExit("the node process did not start")
            time.sleep(args.period)  # every camera running
            cpu = time.process_time()
            node.stdin.write("0 baseline\n")
            node.stdin.flush()
            time.sleep(args.seconds)
            cpu = time.process_time() - cpu
            node.stdin.write("stop\n")
            node.stdin.close()
            node.wait(timeout=60)
            stats = None
            for profile in list(PROFILES):
                profile.disable()
                try:
                    part = pstats.Stats(profile)
                except TypeError:  # a thread that made no call while profiled
                    continue
                if stats is None:
                    stats = part
                else:
                    stats.add(part)
            # every event the node emitted while this process was profiled (the warm-up's too)
            node_report = json.loads((data_dir / "node.json").read_text())
            messages = sum(totals["events"] for totals in node_report["cameras"].values())
            print(
                f"relayed {messages} messages to {args.clients} pages in {args.seconds:.0f} s; this process's "
                f"CPU {cpu:.2f} s (profiled, so slower than unprofiled) = {1e6 * cpu / messages:.0f} us a message, "
                f"{1e6 * cpu / messages / args.clients:.1f} us a delivery; load {os.getloadavg()}"
            )
            print_own_cpu(stats, messages, args.top)
            engine.dispose()
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
