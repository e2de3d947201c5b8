"""Takeover time of an ingest node's cameras: from ``kill -9`` to the first packet recorded on
the new owner (the new segment's start, which is its first packet's wall-clock time).

Two nodes record 8 cameras of a local GStreamer RTSP server (a pre-encoded clip, nothing
encoded per camera) on a fresh PostgreSQL database; the node owning cameras is killed, its
cameras are timed until each has a segment on the survivor, the killed node is started again
and the cluster settles, ``--kills`` times. Prints p50 and max over all taken-over cameras.

    .venv/bin/python benchmarks/cluster/takeover.py --kills 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # noqa: E402

from tests.support.cluster import (  # noqa: E402
    NodeProcess,
    cluster_site,
    cluster_status,
    node_env,
    query,
    wait_for,
    write_annexb_clip,
)
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.rtsp_process import RtspServerProcess  # noqa: E402

CAMERAS = {"qinzhou": [f"qz{i}" for i in range(4)], "maiji": [f"mj{i}" for i in range(4)]}
ALL = [camera for cameras in CAMERAS.values() for camera in cameras]


def owners(env) -> dict[str, str | None]:
    status = cluster_status(env)
    alive = {node["name"] for node in status["nodes"] if node["alive"]}
    return {
        camera: (state["owner"] if state["owner"] in alive else None)
        for camera, state in status["cameras"].items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    postgres = PostgresServer()
    work = Path(tempfile.mkdtemp(prefix="ww-takeover-"))
    clip = write_annexb_clip(work / "clip.h264")
    server = RtspServerProcess({f"/{camera}": f"file:{clip}" for camera in ALL}).start()
    database_url = postgres.migrated("ww_bench_takeover")
    site = cluster_site(work / "site.yaml", lambda camera: server.url(f"/{camera}"), CAMERAS)
    nodes = {
        name: NodeProcess(
            name, work / name, node_env(work / name, database_url, site), ["--listen", "127.0.0.1:0"]
        )
        for name in ("node-a", "node-b")
    }
    takeovers: list[float] = []
    try:
        for node in nodes.values():
            node.start()
        env = nodes["node-a"].env
        for round_ in range(args.kills):
            owned = wait_for(
                lambda: (o := owners(env)) and all(o.values()) and len(set(o.values())) == 2 and o,
                180,
                "a settled cluster",
            )
            victim = sorted(set(owned.values()))[round_ % 2]
            survivor = next(name for name in nodes if name != victim)
            moved = [camera for camera, owner in owned.items() if owner == victim]
            wait_for(
                lambda: (
                    {
                        r.camera_id
                        for r in query(
                            database_url,
                            "SELECT DISTINCT camera_id FROM recording_segments WHERE node = :n",
                            n=victim,
                        )
                    }
                    >= set(moved)
                ),
                60,
                "the victim recording",
            )
            time.sleep(3)
            killed_at = time.time()
            nodes[victim].kill()
            first = wait_for(
                lambda: (
                    (
                        rows := {
                            r.camera_id: r.start
                            for r in query(
                                database_url,
                                "SELECT camera_id, min(start_utc) AS start FROM recording_segments "
                                "WHERE node = :n AND start_utc > :t GROUP BY camera_id",
                                n=survivor,
                                t=killed_at,
                            )
                        }
                    )
                    and set(rows) >= set(moved)
                    and rows
                ),
                90,
                "the survivor recording the victim's cameras",
            )
            seconds = [first[camera] - killed_at for camera in moved]
            takeovers.extend(seconds)
            print(
                f"kill {round_ + 1}: {victim} ({len(moved)} cameras) -> {survivor}: "
                f"{min(seconds):.2f}-{max(seconds):.2f} s",
                flush=True,
            )
            nodes[victim].start()
        result = {
            "kills": args.kills,
            "cameras_taken_over": len(takeovers),
            "p50_s": round(statistics.median(takeovers), 2),
            "max_s": round(max(takeovers), 2),
        }
        print(json.dumps(result))
        return 0
    finally:
        for node in nodes.values():
            node.stop()
        server.kill()
        postgres.drop_all()


if __name__ == "__main__":
    sys.exit(main())
