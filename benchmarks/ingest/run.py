"""Ingest benchmark: CPU per stream of four ways of taking in the same N RTSP streams.

The same N streams (720p25 H.264, about 2 Mbit/s, a pre-encoded clip looped by the GStreamer RTSP
test server, which encodes nothing) are taken in, concurrently and in the same window, by:

1. ``demux``: PyAV demux only, the floor (benchmarks/ingest/demux_only.py);
2. ``watchwall``: ``watchwall ingest --site <the N cameras> --seconds T --no-record`` (demux +
   fan-out + keyframe thumbnails + health analytics, at the default thumbnail interval);
3. ``ffmpeg``: one Debian ``ffmpeg -rtsp_transport tcp -i URL -c copy -f segment`` per camera;
4. ``opencv``: ``cv2.VideoCapture(url)`` decoding every frame (benchmarks/ingest/opencv_decode.py).

CPU time of each variant's processes (and of the server) is read from /proc over a window that
starts after a warm-up, so start-up, imports and stream probing are not counted. Several rounds;
the medians are reported, in CPU seconds per stream per minute.

Usage: .venv/bin/python benchmarks/ingest/run.py [--streams 6] [--seconds 60] [--rounds 3]
Not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path[:0] = [str(HERE), str(ROOT / "tests" / "support")]

from clip import ensure_clip  # noqa: E402
from cpu import cpu_seconds  # noqa: E402
from keyframe_cost import measure as keyframe_cost  # noqa: E402
from report import GOALS, VARIANTS, machine, markdown, write_readme  # noqa: E402
from variants import (  # noqa: E402
    Running,
    counted,
    received,
    start_demux_only,
    start_ffmpeg,
    start_opencv,
    start_watchwall,
    stop,
)

from tests.support.rtsp_process import RtspServerProcess  # noqa: E402


def busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def start_all(urls: list[str], run_s: float, round_dir: Path) -> list[Running]:
    work = {name: round_dir / name for name in VARIANTS}
    for path in work.values():
        path.mkdir(parents=True)
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("WATCHWALL_")  # the defaults, thumbnail interval included
    }
    return [
        start_demux_only(urls, run_s, work["demux"]),
        start_watchwall(urls, run_s, work["watchwall"], environment),
        start_watchwall(urls, run_s, work["watchwall_5s"], environment, thumbnail_interval_s=5.0),
        start_watchwall(urls, run_s, work["watchwall_nothumb"], environment, thumbnails=False),
        start_ffmpeg(urls, work["ffmpeg"]),
        start_opencv(urls, run_s, work["opencv"]),
    ]


def sample(runnings: list[Running], server_pid: int) -> tuple[dict[str, float], dict[str, int | None]]:
    """CPU seconds so far of each variant and of the server; packets or frames counted so far."""
    values = {running.name: sum(cpu_seconds(pid) for pid in running.pids) for running in runnings}
    values["server"] = cpu_seconds(server_pid)
    return values, {running.name: counted(running) for running in runnings}


def one_round(urls: list[str], args: argparse.Namespace, server: RtspServerProcess, round_dir: Path) -> dict:
    run_s = args.warmup + args.seconds + 3.0  # each variant outlives the window by itself
    runnings = start_all(urls, run_s, round_dir)
    try:
        time.sleep(args.warmup)
        dead = [r.name for r in runnings if any(p.poll() is not None for p in r.processes)]
        if dead:
            raise RuntimeError(
                f"variant(s) ended during warm-up: {', '.join(dead)} (see {round_dir}/*/stderr.txt)"
            )
        (before, counts_before), machine_before, started = (
            sample(runnings, server.process.pid),
            busy_seconds(),
            time.monotonic(),
        )
        time.sleep(args.seconds)
        (after, counts_after), machine_after, window = (
            sample(runnings, server.process.pid),
            busy_seconds(),
            time.monotonic() - started,
        )
        dead = [r.name for r in runnings if any(p.poll() is not None for p in r.processes)]
        if dead:
            raise RuntimeError(f"variant(s) ended inside the window: {', '.join(dead)} (see {round_dir})")
    finally:
        outputs = {running.name: stop(running) for running in runnings}
    streams = len(urls)
    per_stream_minute = {name: (after[name] - before[name]) / streams / window * 60 for name in after}
    taken_in = {
        name: round((counts_after[name] - counts_before[name]) / streams / window, 2)
        for name in counts_after
        if counts_after[name] is not None and counts_before[name] is not None
    }
    busy = (machine_after[0] - machine_before[0]) / (machine_after[1] - machine_before[1])
    return {
        "window_s": round(window, 2),
        "cpu_s_per_stream_per_minute": {name: round(value, 4) for name, value in per_stream_minute.items()},
        "machine_busy_fraction": round(busy, 3),
        "taken_in_per_stream_per_s_in_window": taken_in,
        "received": {r.name: received(r, outputs[r.name], urls, run_s) for r in runnings},
    }


def summarise(rounds: list[dict]) -> dict:
    names = list(rounds[0]["cpu_s_per_stream_per_minute"])
    medians = {
        name: statistics.median(r["cpu_s_per_stream_per_minute"][name] for r in rounds) for name in names
    }
    return {
        "median_cpu_s_per_stream_per_minute": medians,
        "ratio_vs_demux": {name: medians[name] / medians["demux"] for name in names},
        "watchwall_over_demux": medians["watchwall"] / medians["demux"],
        "opencv_over_watchwall": medians["opencv"] / medians["watchwall"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=6, help="N, the number of cameras (default 6)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window per round (default 60)")
    parser.add_argument("--warmup", type=float, default=10.0, help="not measured, per round (default 10)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--readme", type=Path, default=ROOT / "benchmarks" / "README_ingest.md")
    parser.add_argument("--no-readme", action="store_true", help="only print and write benchmarks/out/")
    parser.add_argument("--render", type=Path, help="measure nothing: render this ingest.json again")
    args = parser.parse_args()
    if args.render:
        saved = json.loads(args.render.read_text())
        table = markdown(saved["summary"], saved["rounds"], saved)
        print(table)
        if not args.no_readme:
            write_readme(args.readme, table, saved)
        return 0
    if not 1 <= args.streams <= 64 or not 1 <= args.rounds <= 10 or not 5 <= args.seconds <= 600:
        parser.error("want 1-64 streams, 1-10 rounds, a window of 5-600 s")
    if not shutil.which("ffmpeg"):
        parser.error("Debian ffmpeg is needed for the recorder variant")
    command = " ".join([".venv/bin/python", "benchmarks/ingest/run.py", *sys.argv[1:]])
    clip = ensure_clip(OUT)
    work = OUT / "ingest"
    shutil.rmtree(work, ignore_errors=True)
    mounts = {f"/cam{index}": f"file:{clip}" for index in range(args.streams)}
    server = RtspServerProcess(mounts).start()
    rounds = []
    try:
        urls = [server.url(path) for path in mounts]
        for number in range(1, args.rounds + 1):
            result = one_round(urls, args, server, work / f"round{number}")
            rounds.append(result)
            print(f"round {number}: {json.dumps(result)}", flush=True)
    finally:
        server.kill()
    summary = summarise(rounds)
    keyframe_ms = {name: round(ms, 2) for name, ms in keyframe_cost(clip).items()}
    facts = {
        "command": command,
        "streams": args.streams,
        "window_s": args.seconds,
        "warmup_s": args.warmup,
        "clip": clip.name,
        "machine": machine(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "goals": GOALS,
        "keyframe_ms": keyframe_ms,
    }
    table = markdown(summary, rounds, facts)
    print(table)
    (OUT / "ingest.json").write_text(json.dumps({**facts, "summary": summary, "rounds": rounds}, indent=2))
    if not args.no_readme:
        write_readme(args.readme, table, facts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
