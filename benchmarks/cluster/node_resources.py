"""Memory and CPU of one ingest node (``watchwall node``) recording N cameras, an idle node beside it,
and optionally one Debian ``ffmpeg -c copy -f segment`` per camera on the same streams, same window.

The GStreamer RTSP test server loops the ingest benchmarks' pre-encoded 720p25 H.264 clip (about
2 Mbit/s, a keyframe every 2 s; ``benchmarks/ingest/clip.py``, cached in ``benchmarks/out/``) on N
shared ``file:`` mounts: it parses and packetises, it encodes nothing. Both nodes run on a fresh
PostgreSQL database and the local Redis, as in a cluster: the ``bench`` node (``--max-cameras N``)
takes every camera, the ``idle`` node (``--max-cameras 0``) holds none and shows a node's floor.

After the node records every camera and a warm-up, each round reads, at its start and end:
CPU (utime + stime of every process, ``/proc/PID/stat``), the packets each node camera received
(the node's ``/health``), the node's memory (``/proc/PID/status`` VmRSS and ``smaps_rollup``:
Rss, Pss, anonymous), the machine's load average and how busy its cores were (``/proc/stat``).

    .venv/bin/python benchmarks/cluster/node_resources.py --cameras 200 --rounds 3      # memory
    .venv/bin/python benchmarks/cluster/node_resources.py --cameras 50 --ffmpeg --rounds 3   # CPU vs ffmpeg
    .venv/bin/python benchmarks/cluster/node_resources.py --cameras 20 --ffmpeg \
        --side-by-side WATCHWALL_PURE_PYTHON=1     # and a second node, its own cluster, another setting

``--side-by-side KEY=VALUE`` runs a second recording node (``other``) beside the first, on the same
cameras in the same rounds, with that extra environment: its own PostgreSQL database and Redis
database (a cluster of its own, so it owns every camera too). Both share the machine's noise, so
``other_vs_node`` (its CPU over the first node's, round by round) compares two settings or two
builds of the code more steadily than two runs can.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # noqa: E402

from benchmarks.ingest.clip import ensure_clip  # noqa: E402
from benchmarks.ingest.report import cpu_model_and_flags  # noqa: E402
from tests.support.cluster import NodeProcess, cluster_site, node_env, wait_for  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.rtsp_process import RtspServerProcess, free_port  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024
THREAD_NAMES = ROOT / "benchmarks" / "support" / "thread_names"  # a sitecustomize naming the threads
OTHER_REDIS_URL = "redis://127.0.0.1:6379/1"  # the side-by-side node's cluster state, apart from the first's


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (its threads included)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of a process's threads, by group: the thread's name (``--threads`` has the
    node name them) without its trailing number, so the 20 ``recorder-camN`` are one group."""
    groups: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        group = re.sub(r"[-_]?\d+$", "", name) or name
        groups[group] = groups.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return groups


def memory(pid: int) -> dict[str, float]:
    """The process's resident memory in MiB: VmRSS, and Rss / Pss / anonymous from smaps_rollup."""
    figures: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "RssAnon:", "RssFile:", "Threads:")):
                key, value = line.split(":", 1)
                number = float(value.split()[0])
                figures[key] = number if key == "Threads" else number / 1024
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("Pss", "Anonymous"):
                figures[key] = float(value.split()[0]) / 1024
    return figures


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def processor() -> dict:
    """The CPU the figures were taken on. Ratios against ffmpeg move between machines of one kind:
    the recorders hash every byte (SHA-256, which the ``sha_ni`` instructions speed up several
    times) and ffmpeg does not."""
    model, flags = cpu_model_and_flags()
    return {"model": model, "cores": os.cpu_count(), "sha_ni": "sha_ni" in flags, "avx2": "avx2" in flags}


def bytes_under(path: Path) -> int:
    total = 0
    for file in path.rglob("*"):
        try:
            total += file.stat().st_size if file.is_file() else 0
        except OSError:  # a temporary file renamed meanwhile
            pass
    return total


def node_log(node: NodeProcess) -> str:
    path = node.data_dir / "node.log"
    return path.read_text(errors="replace") if path.exists() else ""


def warnings_of(log_text: str, limit: int = 30) -> list[str]:
    """The node's warnings and errors, the first ``limit`` of them (why leases lapsed, for one)."""
    lines = [line for line in log_text.splitlines() if " WARNING " in line or " ERROR " in line]
    return lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])


def dropped_by_kind(report: dict) -> dict[str, int]:
    """Packets dropped from full queues, summed over cameras by kind of subscriber (``recorder``,
    ``keyframes``, ``live`` ...: the name before the ``:camera``)."""
    dropped: Counter[str] = Counter()
    for camera in report["cameras"].values():
        for name, count in camera["dropped"].items():
            dropped[name.split(":")[0]] += count
    return dict(dropped)


def health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=20) as response:
        return json.load(response)


def try_health(port: int) -> dict | None:
    try:
        return health(port)
    except OSError:
        return None


def receiving_all(port: int, cameras: int) -> dict | None:
    """The node's health report once it has received packets of all ``cameras``, else None."""
    report = try_health(port)
    if report and sum(c["packets"] > 0 for c in report["cameras"].values()) == cameras:
        return report
    return None


def ffmpeg_command(url: str, out_dir: Path, index: int) -> list[str]:
    return [
        "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-c", "copy",
        "-f", "segment", "-segment_time", "60", "-reset_timestamps", "1",
        str(out_dir / f"cam{index}_%03d.mp4"),
    ]  # fmt: skip


def run(args: argparse.Namespace) -> dict:
    clip = ensure_clip(OUT)
    extra_env = dict(item.split("=", 1) for item in args.node_env)
    postgres = PostgresServer()
    work = Path(tempfile.mkdtemp(prefix="ww-nodebench-"))
    cameras = [f"cam{index}" for index in range(args.cameras)]
    server = RtspServerProcess({f"/{camera}": f"file:{clip}" for camera in cameras}).start(timeout=120)
    processes: list[subprocess.Popen] = []
    nodes: list[NodeProcess] = []
    try:
        database_url = postgres.migrated("ww_bench_node")
        site = cluster_site(work / "site.yaml", lambda camera: server.url(f"/{camera}"), {"bench": cameras})
        ports = {"idle": free_port(), "bench": free_port()}
        limits = {"idle": 0, "bench": args.cameras}
        names = ["idle", "bench"]
        side_env = dict(item.split("=", 1) for item in args.side_by_side)
        if side_env:
            names.append("other")
            ports["other"], limits["other"] = free_port(), args.cameras
            other_database = postgres.migrated("ww_bench_node_other")
        if args.threads:
            extra_env["PYTHONPATH"] = str(THREAD_NAMES)
        for name in names:
            if name == "other":
                env = node_env(work / name, other_database, site, segment_s=args.segment_s)
                env["WATCHWALL_REDIS_URL"] = OTHER_REDIS_URL
                env.update(extra_env)
                env.update(side_env)
            else:
                env = node_env(work / name, database_url, site, segment_s=args.segment_s)
                env.update(extra_env)
            node = NodeProcess(
                name,
                work / name,
                env,
                ["--listen", f"127.0.0.1:{ports[name]}", "--max-cameras", str(limits[name])],
            )
            nodes.append(node.start())
            wait_for(lambda: try_health(ports[name]), 120, f"node {name}'s health page")  # noqa: B023
        idle, bench = nodes[:2]
        other = nodes[2] if side_env else None
        # Every camera owned and receiving; "online" for all is not required: on a loaded machine a
        # camera whose packets come late shows "stalled" for a while (each round reports the states).
        flowing = wait_for(
            lambda: receiving_all(ports["bench"], args.cameras),
            args.settle_s,
            f"the bench node to receive all {args.cameras} cameras",
            interval=2,
        )
        print(f"bench node receiving {len(flowing['cameras'])} cameras", flush=True)
        if other is not None:
            wait_for(
                lambda: receiving_all(ports["other"], args.cameras),
                args.settle_s,
                f"the other node to receive all {args.cameras} cameras",
                interval=2,
            )
        ffmpegs: list[subprocess.Popen] = []
        if args.ffmpeg:
            ffmpeg_dir = work / "ffmpeg"
            ffmpeg_dir.mkdir()
            for index, camera in enumerate(cameras):
                command = ffmpeg_command(server.url(f"/{camera}"), ffmpeg_dir, index)
                ffmpegs.append(
                    subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                )
            processes.extend(ffmpegs)
        time.sleep(args.warmup)
        rounds = []
        for number in range(args.rounds):
            for process in [node.process for node in nodes] + ffmpegs:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[:4]} exited early: {bench.log()[-2000:]}")
            pids = {"bench": bench.process.pid, "idle": idle.process.pid, "server": server.process.pid}
            if other is not None:
                pids["other"] = other.process.pid
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            before["ffmpeg"] = sum(cpu_seconds(p.pid) for p in ffmpegs)
            threads_before = {name: thread_cpu(pids[name]) for name in ("bench", "other") if name in pids}
            packets_before = {c: s["packets"] for c, s in health(ports["bench"])["cameras"].items()}
            busy_before = machine_busy()
            written_before = {"node": bytes_under(work / "bench"), "ffmpeg": bytes_under(work / "ffmpeg")}
            started = time.monotonic()
            time.sleep(args.window)
            window = time.monotonic() - started
            after = {name: cpu_seconds(pid) for name, pid in pids.items()}
            after["ffmpeg"] = sum(cpu_seconds(p.pid) for p in ffmpegs)
            busy_after = machine_busy()
            written = {
                "node": bytes_under(work / "bench") - written_before["node"],
                "ffmpeg": bytes_under(work / "ffmpeg") - written_before["ffmpeg"],
            }
            report = health(ports["bench"])
            rates = [(s["packets"] - packets_before.get(c, 0)) / window for c, s in report["cameras"].items()]
            node_memory = memory(pids["bench"])
            idle_memory = memory(pids["idle"])
            used = {name: after[name] - before[name] for name in after}
            threads_after = {name: thread_cpu(pids[name]) for name in threads_before}
            row = {
                "round": number + 1,
                "window_s": round(window, 1),
                "load_average": open("/proc/loadavg").read().split()[:3],
                "machine_busy_pct": round(
                    100 * (busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1]), 1
                ),
                "node_core_pct_per_camera": round(100 * used["bench"] / window / args.cameras, 3),
                "idle_node_core_pct": round(100 * used["idle"] / window, 3),
                "server_core_pct": round(100 * used["server"] / window, 1),
                "node_states": dict(Counter(s["state"] for s in report["cameras"].values())),
                "node_packets_per_s_per_camera": [round(min(rates), 1), round(statistics.median(rates), 1)],
                # packets dropped from full subscriber queues, by kind of subscriber (a keyframe
                # worker's queue holds one keyframe: it drops by design; a recorder's drop is a gap)
                "node_dropped_by_subscriber": dropped_by_kind(report),
                # What reached the disk in the window: a node whose leases lapsed writes nothing.
                "node_written_mbit_s_per_camera": round(8 * written["node"] / window / args.cameras / 1e6, 3),
                "node_lease_lapses_logged": node_log(bench).count("lease not renewed in time"),
                "node_recorders_fenced_logged": node_log(bench).count("writing nothing more"),
                "node_memory_mib": {k: round(v, 1) for k, v in node_memory.items()},
                "idle_memory_mib": {k: round(v, 1) for k, v in idle_memory.items()},
                "node_rss_mib_per_camera": round(node_memory["VmRSS"] / args.cameras, 2),
                "node_rss_above_idle_mib_per_camera": round(
                    (node_memory["VmRSS"] - idle_memory["VmRSS"]) / args.cameras, 2
                ),
            }
            if args.threads:
                row["threads_core_pct"] = {
                    node: {
                        group: round(100 * (seconds - threads_before[node].get(group, 0.0)) / window, 3)
                        for group, seconds in sorted(groups.items(), key=lambda item: -item[1])
                    }
                    for node, groups in threads_after.items()
                }
            if other is not None:
                row["other_core_pct_per_camera"] = round(100 * used["other"] / window / args.cameras, 3)
                row["other_vs_node"] = round(used["other"] / used["bench"], 3)
                if ffmpegs:
                    row["other_vs_ffmpeg"] = round(used["other"] / used["ffmpeg"], 3)
            if ffmpegs:
                ffmpeg_pss = sum(memory(p.pid)["Pss"] for p in ffmpegs)
                row["ffmpeg_core_pct_per_camera"] = round(100 * used["ffmpeg"] / window / args.cameras, 3)
                row["node_vs_ffmpeg"] = round(used["bench"] / used["ffmpeg"], 3)
                row["ffmpeg_pss_mib_per_camera"] = round(ffmpeg_pss / args.cameras, 2)
                row["ffmpeg_written_mbit_s_per_camera"] = round(
                    8 * written["ffmpeg"] / window / args.cameras / 1e6, 3
                )
            rounds.append(row)
            print(json.dumps(row), flush=True)
        if ffmpegs:
            for process in ffmpegs:
                process.terminate()
            for process in ffmpegs:
                process.wait(30)
            row_bytes = sum(p.stat().st_size for p in (work / "ffmpeg").glob("*.mp4"))
        else:
            row_bytes = None
        node_bytes = sum(p.stat().st_size for p in (work / "bench").rglob("*") if p.is_file())
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        for node in nodes:
            node.stop()
        bench_log = node_log(nodes[1]) if len(nodes) > 1 else ""
        server.kill()
        postgres.drop_all()
        shutil.rmtree(work, ignore_errors=True)

    def median(key: str) -> float:
        return round(statistics.median(row[key] for row in rounds), 3)

    summary = {
        "processor": processor(),
        "cameras": args.cameras,
        "rounds": len(rounds),
        "window_s": args.window,
        "segment_s": args.segment_s,
        "node_env": args.node_env,
        "node_rss_mib_per_camera": median("node_rss_mib_per_camera"),
        "node_rss_above_idle_mib_per_camera": median("node_rss_above_idle_mib_per_camera"),
        "node_rss_mib": round(statistics.median(r["node_memory_mib"]["VmRSS"] for r in rounds), 1),
        "idle_node_rss_mib": round(statistics.median(r["idle_memory_mib"]["VmRSS"] for r in rounds), 1),
        "node_core_pct_per_camera": median("node_core_pct_per_camera"),
        "machine_busy_pct": median("machine_busy_pct"),
        "node_written_mbit_s_per_camera_median": median("node_written_mbit_s_per_camera"),
        "node_lease_lapses_logged": rounds[-1]["node_lease_lapses_logged"],
        "node_log_warnings": warnings_of(bench_log),
        "node_recorders_fenced_logged": rounds[-1]["node_recorders_fenced_logged"],
        "node_packets_per_s_per_camera_median": statistics.median(
            r["node_packets_per_s_per_camera"][1] for r in rounds
        ),
        "node_bytes_written": node_bytes,
        "ffmpeg_bytes_written": row_bytes,
    }
    if args.side_by_side:
        summary["side_by_side"] = args.side_by_side
        summary["other_core_pct_per_camera"] = median("other_core_pct_per_camera")
        summary["other_vs_node"] = median("other_vs_node")
        if args.ffmpeg:
            summary["other_vs_ffmpeg"] = median("other_vs_ffmpeg")
    if args.ffmpeg:
        summary["ffmpeg_core_pct_per_camera"] = median("ffmpeg_core_pct_per_camera")
        summary["node_vs_ffmpeg"] = median("node_vs_ffmpeg")
        summary["ffmpeg_written_mbit_s_per_camera_median"] = median("ffmpeg_written_mbit_s_per_camera")
    return {"summary": summary, "rounds": rounds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument(
        "--ffmpeg", action="store_true", help="one ffmpeg -c copy -f segment per camera beside"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured per round")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds after every camera is online")
    parser.add_argument("--segment-s", type=float, default=60.0, help="the node's segment length")
    parser.add_argument("--settle-s", type=float, default=600.0, help="most seconds to wait for all flowing")
    parser.add_argument(
        "--node-env", action="append", default=[], metavar="KEY=VALUE", help="extra environment of both nodes"
    )
    parser.add_argument(
        "--threads", action="store_true", help="each round: the nodes' CPU by thread (named for it)"
    )
    parser.add_argument(
        "--side-by-side",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a second recording node beside, with this extra environment",
    )
    args = parser.parse_args()
    if any("=" not in item for item in args.node_env + args.side_by_side):
        parser.error("--node-env and --side-by-side want KEY=VALUE")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the nodes and drop the database
    if args.cameras < 1 or args.rounds < 1:
        parser.error("--cameras and --rounds must be at least 1")
    if args.ffmpeg and not shutil.which("ffmpeg"):
        parser.error("Debian ffmpeg is needed for --ffmpeg")
    result = run(args)
    OUT.mkdir(parents=True, exist_ok=True)
    tag = "".join(f"_{item}" for item in args.node_env) + "".join(f"_vs_{item}" for item in args.side_by_side)
    name = f"node_resources_{args.cameras}{'_ffmpeg' if args.ffmpeg else ''}{tag}.json"
    (OUT / name).write_text(json.dumps(result, indent=2))
    print(json.dumps(result["summary"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
