"""CPU of the recording path alone, per packet: real camera packets through real recorders.

First, 10 s of packets are taken from the GStreamer RTSP test server (the ingest benchmarks'
720p25 H.264 clip at about 2 Mbit/s, ``benchmarks/ingest/clip.py``) through WatchWall's own
ingest reader, as a node receives them. Then two measurements, with a SQLite index and the
segment files in a temporary folder:

- ``handle``: one ``Recorder`` takes ``--loops`` passes over the packets (timestamps moved on
  each pass) on the calling thread (``Recorder._handle``: checks, segment writer, hashing,
  index rows); process CPU per packet. No queue, no thread.
- ``threads``: ``--cameras`` recorders on their own threads, fed through their fan-outs at the
  camera's own 25 packets/s for ``--seconds`` after a 5 s warm-up: the process's CPU per camera in
  % of a core, once with the recorders writing and once with them fenced (they take every packet
  off the queue and write nothing), and once with no recorder (the feeding alone).

The code measured is the one the interpreter imports: run it with another checkout's venv to
compare two versions on the same machine, one after the other.

    .venv/bin/python benchmarks/recording/recorder_packet_cpu.py

``--pending-samples N``: instead, ``handle`` only, N rounds each of the compiled and the Python
pending samples (video.record.pending_samples), alternated in this process.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # noqa: E402

from benchmarks.ingest.clip import ensure_clip  # noqa: E402
from tests.support.rtsp_process import RtspServerProcess  # noqa: E402
from watchwall.config.database import make_engine, upgrade  # noqa: E402
from watchwall.config.settings import Settings  # noqa: E402
from watchwall.config.site import Site  # noqa: E402
from watchwall.video.ingest.fanout import Fanout  # noqa: E402
from watchwall.video.ingest.supervisor import IngestService  # noqa: E402
from watchwall.video.record import h264_segment, pending_samples  # noqa: E402
from watchwall.video.record.recorder import Recorder  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
FPS = 25


def capture(work: Path, count: int) -> list:
    clip = ensure_clip(OUT)
    server = RtspServerProcess({"/cam0": f"file:{clip}"}).start(timeout=120)
    camera = {"id": "cam0", "name": "cam0", "rtsp": server.url("/cam0")}
    room = {"code": "r", "name": "r", "cameras": [camera]}
    site = Site.model_validate({"centres": [{"code": "c", "name": "c", "level": "county", "rooms": [room]}]})
    service = IngestService(site, settings=Settings(data_dir=work / "capture"), keyframes=False)
    subscription = service.fanouts["cam0"].subscribe("capture", maxsize=count + 100)
    service.start()
    packets = []
    deadline = time.monotonic() + 60
    try:
        while len(packets) < count and time.monotonic() < deadline:
            packet = subscription.get(1.0)
            if packet is not None:
                packets.append(packet)
    finally:
        service.stop()
        server.kill()
    if len(packets) < count:
        raise RuntimeError(f"only {len(packets)} packets in 60 s")
    return packets


def shifted(packets: list, loop: int, camera_id: str, wallclock: float):
    """The packets' ``loop``-th pass: timestamps moved on by the passes before it."""
    span = packets[-1].dts - packets[0].dts + packets[1].duration
    return [
        dataclasses.replace(
            p,
            camera_id=camera_id,
            dts=p.dts + loop * span,
            pts=p.pts + loop * span,
            wallclock=wallclock + (loop * len(packets) + index) / FPS,
        )
        for index, p in enumerate(packets)
    ]


def engine_in(folder: Path):
    url = f"sqlite:///{folder / 'watchwall.db'}"
    upgrade(url)
    return make_engine(url)


def handle_cpu(packets: list, loops: int, work: Path) -> float:
    """µs of process CPU per packet through one recorder's packet handling."""
    folder = Path(tempfile.mkdtemp(dir=work))
    engine = engine_in(folder)
    fanout = Fanout("cam0")
    recorder = Recorder("cam0", fanout, engine, folder / "recordings", segment_seconds=60, batch_s=0)
    recorder._subscription = fanout.subscribe("recorder", maxsize=16)  # its drop counter
    items = [p for loop in range(loops) for p in shifted(packets, loop, "cam0", time.time())]
    started = time.process_time()
    for packet in items:
        recorder._handle(packet)
    recorder._close_segment()
    used = time.process_time() - started
    engine.dispose()
    return 1e6 * used / len(items)


def threads_cpu(packets: list, cameras: int, seconds: float, mode: str, work: Path) -> dict:
    """% of a core per camera of this process while ``cameras`` fan-outs get 25 packets/s each."""
    folder = Path(tempfile.mkdtemp(dir=work))
    engine = engine_in(folder)
    fanouts = [Fanout(f"cam{index}") for index in range(cameras)]
    recorders = []
    if mode != "feed only":
        for index, fanout in enumerate(fanouts):
            recorder = Recorder(f"cam{index}", fanout, engine, folder / "recordings", segment_seconds=60)
            recorder.fenced = mode == "fenced"
            recorders.append(recorder.start())
    passes = int((seconds + 5) * FPS / len(packets)) + 2
    start_wall = time.time()
    feed = [
        shifted(packets, loop, "", start_wall)  # camera ids are put in below
        for loop in range(passes)
    ]
    stream = [p for one_pass in feed for p in one_pass]
    t0 = time.monotonic()
    cpu_at = None
    for index, packet in enumerate(stream):
        elapsed = time.monotonic() - t0
        if cpu_at is None and elapsed >= 5:
            cpu_at, measured_from = sum(os.times()[:2]), time.monotonic()
        if elapsed >= 5 + seconds:
            break
        for number, fanout in enumerate(fanouts):
            fanout.publish(dataclasses.replace(packet, camera_id=f"cam{number}"))
        delay = t0 + (index + 1) / FPS - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    used = sum(os.times()[:2]) - cpu_at
    window = time.monotonic() - measured_from
    written = sum(r.packets_written for r in recorders)
    dropped = sum(r.dropped for r in recorders)
    for recorder in recorders:
        recorder.stop()
    engine.dispose()
    return {
        "mode": mode,
        "core_pct_per_camera": round(100 * used / window / cameras, 4),
        "packets_written": written,
        "dropped": dropped,
        "load_average": open("/proc/loadavg").read().split()[:3],
    }


def compare_pending_samples(packets: list, rounds: int, loops: int, work: Path) -> dict:
    """``handle_cpu`` with the compiled and the Python pending samples, alternated (ABBA)."""
    if pending_samples.COMPILED is None:
        raise SystemExit(f"the compiled pending samples are not in use: {pending_samples.describe()}")
    versions = {"compiled": pending_samples.COMPILED, "python": pending_samples.PythonPendingSamples}
    figures: dict[str, list[float]] = {name: [] for name in versions}
    handle_cpu(packets, loops, work)  # warm-up: imports, first files
    try:
        for number in range(rounds):
            order = ["compiled", "python"] if number % 2 == 0 else ["python", "compiled"]
            for name in order:
                h264_segment.PendingSamples = versions[name]
                figures[name].append(round(handle_cpu(packets, loops, work), 2))
    finally:
        h264_segment.PendingSamples = pending_samples.PendingSamples
    medians = {name: round(statistics.median(values), 2) for name, values in figures.items()}
    return {
        "us_per_packet": figures,
        "median_us_per_packet": medians,
        "compiled_vs_python": round(medians["compiled"] / medians["python"], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=20, help="passes over the packets for 'handle'")
    parser.add_argument("--cameras", type=int, default=20, help="recorder threads for 'threads'")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window for each 'threads' mode")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tag", default="", help="a word for the output file's name")
    parser.add_argument(
        "--pending-samples", type=int, default=0, metavar="N", help="compiled vs Python, N rounds each"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ww-recbench-"))
    try:
        packets = capture(work, 10 * FPS)
        if args.pending_samples:
            result = compare_pending_samples(packets, args.pending_samples, args.loops, work)
            print(json.dumps(result, indent=2))
            return 0
        result = {"packets": len(packets), "mean_packet_bytes": sum(p.size for p in packets) // len(packets)}
        result["rounds"] = []
        for number in range(args.rounds):
            row = {
                "round": number + 1,
                "handle_us_per_packet": round(handle_cpu(packets, args.loops, work), 1),
            }
            row["threads"] = [
                threads_cpu(packets, args.cameras, args.seconds, mode, work)
                for mode in ("feed only", "fenced", "writing")
            ]
            result["rounds"].append(row)
            print(json.dumps(row), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    name = f"recorder_packet_cpu{'_' + args.tag if args.tag else ''}.json"
    (OUT / name).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
