"""The ingest node's side of ``run.py --shape node``: its own process, as ``watchwall node`` runs.

    python benchmarks/incidents/node_process.py DATABASE_URL REDIS_URL CAMERAS PERIOD PUSH_EVERY OUT

The flapping cameras emit through the node's sink, wired as ``roles/node.py`` wires it: a
``RedisSink`` (Flask-SocketIO's message queue, no socket.io server in this process) wrapped by the
``IncidentIntake``'s sink, whose thread writes the incidents (``report_callback``) and publishes
``incident.changed`` through the same Redis sink (``publish_through``). The web process only relays.

Driven over stdin by ``run.py``: a line ``NUMBER MODE`` starts a slice (``baseline``: the Redis sink
alone; ``incidents``: the intake's sink around it), ``stop`` ends the run; the figures (per slice:
the camera threads' CPU and events, this process's CPU, the intake thread's CPU) go to ``OUT``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from flapping import Sinks, cpu_seconds, make_site, per_slice_totals, start_cameras, thread_cpu_seconds

from watchwall.config.database import make_engine
from watchwall.config.incident_settings import IncidentSettings
from watchwall.incidents.intake import IncidentIntake, places_in, publish_through
from watchwall.incidents.store import report_callback
from watchwall.video.state.events import RedisSink


def main(database_url: str, redis_url: str, cameras: int, period: float, push_every: float, out: Path) -> int:
    settings = IncidentSettings(push_every_s=push_every)
    engine = make_engine(database_url)
    site = make_site(cameras)
    sink = RedisSink(redis_url)
    intake = IncidentIntake(
        report_callback(engine, settings),
        places_in(lambda: site),
        publish_through(sink),
        batch_s=settings.batch_s,
        push_every_s=settings.push_every_s,
    ).start()
    sinks = Sinks(sink, intake.sink(sink))
    stop = threading.Event()
    threads = start_cameras(site, sinks, period, stop)
    print("ready", flush=True)
    slices: list[dict] = []
    current = None
    for line in sys.stdin:
        now = (time.monotonic(), cpu_seconds(), thread_cpu_seconds(intake._thread))
        if current is not None:
            number, mode, started = current
            slices.append(
                {
                    "slice": number,
                    "mode": mode,
                    "seconds": now[0] - started[0],
                    "process_cpu_s": now[1] - started[1],
                    "intake_cpu_s": now[2] - started[2],
                }
            )
        if line.strip() == "stop":
            sinks.slice = -2  # cool-down: not counted
            break
        number, mode = line.split()
        sinks.switch(int(number), mode)
        current = (int(number), mode, now)
        print(f"slice {number}", flush=True)
    stop.set()
    intake.stop()
    out.write_text(
        json.dumps(
            {
                "slices": slices,
                "cameras": {str(n): totals for n, totals in per_slice_totals(threads).items()},
                "intake": {
                    "batches": intake.batches,
                    "dropped": intake.dropped,
                    "pushes": intake.pushes.pushes,
                    "coalesced": intake.pushes.coalesced,
                },
            }
        )
    )
    engine.dispose()
    return 0


if __name__ == "__main__":
    url, redis, count, period_s, every, path = sys.argv[1:7]
    sys.exit(main(url, redis, int(count), float(period_s), float(every), Path(path)))
