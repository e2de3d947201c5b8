"""An ingest node's CPU a camera against ``ffmpeg -c copy -f segment``'s, each measured alone with
the cameras, in alternating phases of one run.

``node_resources.py --ffmpeg`` runs the node and one ffmpeg a camera at once, beside the RTSP test
server. At 100 cameras on a 2-core machine that is more than the machine has (the server takes
70-100 % of a core, the ffmpegs 40-60 %, the node 30-35 %): the three then share a saturated
machine, and the result depends on how the kernel shares it out, not only on what each costs.
A production node has its machine to itself, so here each side runs in a phase of its own, the
node then the ffmpegs then the ffmpegs then the node (ABBA, so that a drift of the machine over
the run weighs on both alike), each phase with the same server and the same cameras:

- *node phase*: ``watchwall node`` (PostgreSQL, Redis, leases) records every camera; once all are
  received and ``--warmup`` seconds have passed, its CPU (utime + stime of all its threads) over
  ``--window`` seconds; what it wrote and received in the window, its warnings; then it stops.
- *ffmpeg phase*: one Debian ``ffmpeg -c copy -f segment -segment_time 60`` a camera, the same
  warm-up and window, then they stop.

Each pair of phases gives a ratio, node over ffmpeg; the summary gives their median. The server's
CPU is reported per phase (it serves the same streams to either side).

    .venv/bin/python benchmarks/cluster/node_vs_ffmpeg_alternating.py --cameras 100 --pairs 2

With ``--baseline-node-env KEY=VALUE`` the other side is not ffmpeg but the same node with that in
its environment (``WATCHWALL_PURE_PYTHON=recording``: the recorder's per-packet path in Python), in
the same alternating phases: what a change of the node is worth, measured side by side.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # noqa: E402

from benchmarks.cluster.node_resources import (  # noqa: E402
    OUT,
    bytes_under,
    cpu_seconds,
    dropped_by_kind,
    ffmpeg_command,
    health,
    machine_busy,
    node_log,
    processor,
    receiving_all,
    thread_cpu,
    warnings_of,
)
from benchmarks.ingest.clip import ensure_clip  # noqa: E402
from tests.support.cluster import NodeProcess, cluster_site, node_env, wait_for  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.rtsp_process import RtspServerProcess, free_port  # noqa: E402

THREAD_NAMES = ROOT / "benchmarks" / "support" / "thread_names"


def measure(pids: dict[str, list[int]], window: float, written_under: Path) -> dict:
    """CPU of each group of processes over ``window`` seconds, how busy the machine was, and the
    bytes written under ``written_under``."""

    def cpu(group: list[int]) -> float:
        return sum(cpu_seconds(pid) for pid in group)

    before = {name: cpu(group) for name, group in pids.items()}
    busy_before = machine_busy()
    written_before = bytes_under(written_under)
    started = time.monotonic()
    time.sleep(window)
    elapsed = time.monotonic() - started
    used = {name: cpu(group) - before[name] for name, group in pids.items()}
    busy_after = machine_busy()
    return {
        "window_s": round(elapsed, 1),
        "used_s": used,
        "written_bytes": bytes_under(written_under) - written_before,
        "machine_busy_pct": round(
            100 * (busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1]), 1
        ),
        "load_average": open("/proc/loadavg").read().split()[:3],
    }


def phase_row(side: str, figures: dict, cameras: int) -> dict:
    """What every phase reports: ``side``'s CPU a camera, the server's, what was written."""
    window = figures["window_s"]
    return {
        "phase": side,
        "window_s": window,
        "load_average": figures["load_average"],
        "machine_busy_pct": figures["machine_busy_pct"],
        "core_pct_per_camera": round(100 * figures["used_s"][side] / window / cameras, 3),
        "server_core_pct": round(100 * figures["used_s"]["server"] / window, 1),
        "written_mbit_s_per_camera": round(8 * figures["written_bytes"] / window / cameras / 1e6, 3),
    }


def node_phase(
    args,
    number: int,
    work: Path,
    database_url: str,
    site: Path,
    server: RtspServerProcess,
    side: str = "node",
    extra_env: dict[str, str] | None = None,
) -> dict:
    port = free_port()
    data_dir = work / f"node{number}"
    env = node_env(data_dir, database_url, site, segment_s=args.segment_s) | (extra_env or {})
    env["PYTHONPATH"] = str(THREAD_NAMES)  # the node's threads named, for threads_core_pct
    node = NodeProcess(
        f"bench{number}", data_dir, env, ["--listen", f"127.0.0.1:{port}", "--max-cameras", str(args.cameras)]
    ).start()
    try:
        wait_for(
            lambda: receiving_all(port, args.cameras),
            args.settle_s,
            f"the node to receive all {args.cameras} cameras",
            interval=2,
        )
        time.sleep(args.warmup)
        if node.process.poll() is not None:
            raise RuntimeError(f"the node exited early: {node.log()[-2000:]}")
        packets_before = {c: s["packets"] for c, s in health(port)["cameras"].items()}
        threads_before = thread_cpu(node.process.pid)
        figures = measure({"node": [node.process.pid], "server": [server.process.pid]}, args.window, data_dir)
        report = health(port)
        threads_after = thread_cpu(node.process.pid)
        window = figures["window_s"]
        rates = [(s["packets"] - packets_before.get(c, 0)) / window for c, s in report["cameras"].items()]
        text = node_log(node)
        return phase_row("node", figures, args.cameras) | {
            "phase": side,
            "env": extra_env or {},
            "packets_per_s_per_camera": [round(min(rates), 1), round(statistics.median(rates), 1)],
            "states": dict(Counter(camera["state"] for camera in report["cameras"].values())),
            "dropped_by_subscriber": dropped_by_kind(report),
            "lease_lapses_logged": text.count("lease not renewed in time"),
            "recorders_fenced_logged": text.count("writing nothing more"),
            "warnings": warnings_of(text, limit=10),
            "threads_core_pct": {
                group: round(100 * (seconds - threads_before.get(group, 0.0)) / window, 3)
                for group, seconds in sorted(threads_after.items(), key=lambda item: -item[1])
            },
        }
    finally:
        node.stop()
        shutil.rmtree(data_dir / "recordings", ignore_errors=True)  # one phase's files on disk at a time


def ffmpeg_phase(args, number: int, work: Path, server: RtspServerProcess, cameras: list[str]) -> dict:
    out_dir = work / f"ffmpeg{number}"
    out_dir.mkdir()
    processes = [
        subprocess.Popen(
            ffmpeg_command(server.url(f"/{camera}"), out_dir, index),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index, camera in enumerate(cameras)
    ]
    try:
        # the same start as the node's: every stream flowing (a file each, growing), then the warm-up
        wait_for(
            lambda: sum(1 for path in out_dir.glob("*.mp4") if path.stat().st_size > 0) >= args.cameras,
            args.settle_s,
            f"all {args.cameras} ffmpegs to write",
            interval=2,
        )
        time.sleep(args.warmup)
        exited = [p.args for p in processes if p.poll() is not None]
        if exited:
            raise RuntimeError(f"{len(exited)} ffmpeg(s) exited early, e.g. {exited[0]}")
        figures = measure(
            {"ffmpeg": [p.pid for p in processes], "server": [server.process.pid]}, args.window, out_dir
        )
        return phase_row("ffmpeg", figures, args.cameras)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        shutil.rmtree(out_dir, ignore_errors=True)  # the disk holds one phase's files at a time


def run(args: argparse.Namespace) -> dict:
    clip = ensure_clip(OUT)
    postgres = PostgresServer()
    work = Path(tempfile.mkdtemp(prefix="ww-alternating-"))
    cameras = [f"cam{index}" for index in range(args.cameras)]
    server = RtspServerProcess({f"/{camera}": f"file:{clip}" for camera in cameras}).start(timeout=120)
    phases: list[dict] = []
    try:
        database_url = postgres.migrated("ww_bench_alternating")
        site = cluster_site(work / "site.yaml", lambda camera: server.url(f"/{camera}"), {"bench": cameras})
        other = "baseline" if args.baseline_env else "ffmpeg"
        order = ["node", other, other, "node"] * ((args.pairs + 1) // 2)
        for number, side in enumerate(order[: 2 * args.pairs]):
            if side == "node":
                phase = node_phase(args, number, work, database_url, site, server)
            elif side == "baseline":
                phase = node_phase(args, number, work, database_url, site, server, side, args.baseline_env)
            else:
                phase = ffmpeg_phase(args, number, work, server, cameras)
            phases.append(phase)
            print(json.dumps(phase), flush=True)
    finally:
        server.kill()
        postgres.drop_all()
        shutil.rmtree(work, ignore_errors=True)
    pairs = [phases[index : index + 2] for index in range(0, len(phases), 2)]
    other = "baseline" if args.baseline_env else "ffmpeg"
    ratios = []
    for pair in pairs:
        node = next(p for p in pair if p["phase"] == "node")
        base = next(p for p in pair if p["phase"] == other)
        ratios.append(round(node["core_pct_per_camera"] / base["core_pct_per_camera"], 3))

    def median(side: str, key: str) -> float:
        return round(statistics.median(p[key] for p in phases if p["phase"] == side), 3)

    summary = {
        "processor": processor(),
        "cameras": args.cameras,
        "pairs": len(pairs),
        "window_s": args.window,
        "warmup_s": args.warmup,
        "segment_s": args.segment_s,
        "baseline_env": args.baseline_env,
        "node_core_pct_per_camera": median("node", "core_pct_per_camera"),
        f"{other}_core_pct_per_camera": median(other, "core_pct_per_camera"),
        f"node_vs_{other}_by_pair": ratios,
        f"node_vs_{other}": round(statistics.median(ratios), 3),
        "node_written_mbit_s_per_camera": median("node", "written_mbit_s_per_camera"),
        f"{other}_written_mbit_s_per_camera": median(other, "written_mbit_s_per_camera"),
        "server_core_pct": {side: median(side, "server_core_pct") for side in ("node", other)},
        "node_lease_lapses_logged": sum(
            p.get("lease_lapses_logged", 0) for p in phases if p["phase"] != "ffmpeg"
        ),
    }
    return {"summary": summary, "phases": phases}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=2, help="node and ffmpeg phases, ABBA order")
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured per phase")
    parser.add_argument("--warmup", type=float, default=90.0, help="seconds after every stream flows")
    parser.add_argument("--segment-s", type=float, default=60.0, help="the node's segment length")
    parser.add_argument("--settle-s", type=float, default=300.0, help="most seconds to wait for all flowing")
    parser.add_argument(
        "--baseline-node-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="compare with the node run with this in its environment, instead of with ffmpeg",
    )
    args = parser.parse_args()
    if args.cameras < 1 or args.pairs < 1:
        parser.error("--cameras and --pairs must be at least 1")
    if any("=" not in item for item in args.baseline_node_env):
        parser.error("--baseline-node-env takes KEY=VALUE")
    args.baseline_env = dict(item.split("=", 1) for item in args.baseline_node_env)
    if not args.baseline_env and not shutil.which("ffmpeg"):
        parser.error("Debian ffmpeg is needed")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the node and drop the database
    result = run(args)
    OUT.mkdir(parents=True, exist_ok=True)
    name = "node_vs_baseline" if args.baseline_env else "node_vs_ffmpeg"
    (OUT / f"{name}_alternating_{args.cameras}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result["summary"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
