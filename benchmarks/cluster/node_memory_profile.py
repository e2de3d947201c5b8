"""Where an ingest node's memory goes: run ``watchwall node`` in this process (as the ``watchwall``
command runs it) on N cameras of the 720p25 2 Mbit/s clip, and once every camera is online and
``--seconds`` more have passed, report

- the process's RSS and its anonymous memory by kind (``/proc/self/smaps``: glibc malloc arenas
  of 64 MiB, the main heap, thread stacks, other anonymous mappings);
- glibc's own account (``mallinfo2``): bytes in use by malloc's callers and bytes malloc holds
  free (fragmentation kept by the arenas);
- with ``--tracemalloc``, the live Python allocations (tracemalloc), biggest source lines first.

Then it stops the node with SIGTERM. Try glibc settings through the environment, e.g.
``MALLOC_ARENA_MAX=2``:

    .venv/bin/python benchmarks/cluster/node_memory_profile.py --cameras 50 --tracemalloc
    MALLOC_ARENA_MAX=2 .venv/bin/python benchmarks/cluster/node_memory_profile.py --cameras 50
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # noqa: E402

from benchmarks.ingest.clip import ensure_clip  # noqa: E402
from tests.support.cluster import cluster_site, node_env  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.rtsp_process import RtspServerProcess, free_port  # noqa: E402
from watchwall.roles import cli  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
MIB = 1024 * 1024


class MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost",
        )
    ]  # fmt: skip


def mallinfo() -> dict[str, float]:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return {
        "malloc_from_system_mib": round((info.arena + info.hblkhd) / MIB, 1),
        "malloc_in_use_mib": round((info.uordblks + info.hblkhd) / MIB, 1),
        "malloc_free_held_mib": round(info.fordblks / MIB, 1),
    }


def anonymous_by_kind() -> dict[str, float]:
    """Resident anonymous memory by kind of mapping, in MiB."""
    kinds: dict[str, float] = {}
    kind = None
    with open("/proc/self/smaps") as handle:
        for line in handle:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
                start, end = (int(x, 16) for x in fields[0].split("-"))
                size_kib = (end - start) // 1024
                name = fields[5] if len(fields) > 5 else ""
                if name == "[heap]":
                    kind = "main heap (brk)"
                elif name:
                    kind = "files" if name.startswith("/") else name
                elif start % (64 * MIB) == 0 and size_kib <= 64 * 1024:
                    kind = "malloc arenas (64 MiB-aligned heaps)"  # glibc's per-thread arenas
                elif 8188 <= size_kib <= 8196:
                    kind = "thread stacks"
                else:
                    kind = "other anonymous (mmap)"
            elif fields[0] == "Rss:" and kind is not None:
                kinds[kind] = kinds.get(kind, 0.0) + int(fields[1]) / 1024
    return {k: round(v, 1) for k, v in sorted(kinds.items(), key=lambda item: -item[1])}


def status() -> dict[str, float]:
    figures = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "Threads"):
                number = float(value.split()[0])
                figures[key] = number if key == "Threads" else round(number / 1024, 1)
    return figures


def watch(port: int, cameras: int, seconds: float, found: dict, use_tracemalloc: bool) -> None:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=20) as response:
                report = json.load(response)
            flowing = sum(camera["packets"] > 0 for camera in report["cameras"].values())
            if flowing == cameras:
                found["receiving"] = flowing
                break
        except OSError:
            pass
        time.sleep(2)
    time.sleep(seconds)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=20) as response:
        states = [camera["state"] for camera in json.load(response)["cameras"].values()]
    found["states"] = {state: states.count(state) for state in set(states)}
    found["status"] = status()
    found["anonymous_mib"] = anonymous_by_kind()
    found["mallinfo"] = mallinfo()
    found["threads_by_name"] = {}
    for thread in threading.enumerate():
        stem = thread.name.rstrip("0123456789-_ ").split(":")[0] or thread.name
        found["threads_by_name"][stem] = found["threads_by_name"].get(stem, 0) + 1
    if use_tracemalloc:
        snapshot = tracemalloc.take_snapshot()
        stats = snapshot.statistics("lineno")
        found["tracemalloc_total_mib"] = round(sum(s.size for s in stats) / MIB, 1)
        found["tracemalloc_top"] = [
            {"where": str(s.traceback[0]), "mib": round(s.size / MIB, 2), "blocks": s.count}
            for s in stats[:20]
        ]
    os.kill(os.getpid(), signal.SIGTERM)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0, help="after every camera is online")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--segment-s", type=float, default=60.0)
    args = parser.parse_args()
    clip = ensure_clip(OUT)
    postgres = PostgresServer()
    work = Path(tempfile.mkdtemp(prefix="ww-nodemem-"))
    cameras = [f"cam{index}" for index in range(args.cameras)]
    server = RtspServerProcess({f"/{camera}": f"file:{clip}" for camera in cameras}).start(timeout=120)
    found: dict = {"cameras": args.cameras, "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX")}
    try:
        database_url = postgres.migrated("ww_bench_nodemem")
        site = cluster_site(work / "site.yaml", lambda camera: server.url(f"/{camera}"), {"bench": cameras})
        os.environ.update(node_env(work / "node", database_url, site, segment_s=args.segment_s))
        port = free_port()
        if args.tracemalloc:
            tracemalloc.start(1)
        threading.Thread(
            target=watch, args=(port, args.cameras, args.seconds, found, args.tracemalloc), daemon=True
        ).start()
        cli.main(
            [
                "node",
                "--name",
                "memprobe",
                "--listen",
                f"127.0.0.1:{port}",
                "--max-cameras",
                str(args.cameras),
            ]
        )
    finally:
        server.kill()
        postgres.drop_all()
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    suffix = f"{args.cameras}{'_tracemalloc' if args.tracemalloc else ''}_arena{found['malloc_arena_max']}"
    (OUT / f"node_memory_profile_{suffix}.json").write_text(json.dumps(found, indent=2))
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
