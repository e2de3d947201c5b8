"""Recording benchmarks: evidence export vs ``ffmpeg -f concat -c copy``, and seek latency.

Generates N minutes of 720p25 H.264 at about 2 Mbit/s with PyAV's libx264
(cached in benchmarks/out/), records it through the real Recorder into 60 s
fMP4 segments, then, in one run on the same segments:

- exports the whole span with ``watchwall.video.record.export.export_clip`` (remux, hashes,
  signed manifest, zip) and with Debian ffmpeg's concat demuxer (``-c copy``),
  three times each; reports the medians and the ratio (goal <= 1.2);
- seeks to random instants: index lookup + fMP4 of the 30 s from that instant
  until its first byte can be read (goal p95 <= 300 ms);
- CPU per camera of ``watchwall ingest`` (recording, thumbnails, health) vs one
  ``ffmpeg -c copy -f segment`` per camera on the same N RTSP streams
  (benchmarks/recording/ingest_cpu.py; goal <= 1.0 x).

Usage: .venv/bin/python benchmarks/recording/run.py [--minutes 10] [--seeks 40] [--only ingest|export]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import numpy as np

from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.packet import MediaPacket, StreamInfo
from watchwall.video.record.export import export_clip
from watchwall.video.record.models import RecordingSegment
from watchwall.video.record.playback import playback_file
from watchwall.video.record.recorder import Recorder
from watchwall.video.record.signing import load_or_create_signing_key

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out"
WIDTH, HEIGHT, FPS, GOP = 1280, 720, 25, 50
T0 = 1_790_000_000.0


def make_clip(path: Path, minutes: float) -> None:
    """A moving, noisy 720p picture so that x264 spends about 2 Mbit/s on it."""
    frames = int(minutes * 60 * FPS)
    rng = np.random.default_rng(7)
    base = rng.integers(0, 255, (HEIGHT // 8, WIDTH // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    partial = path.with_suffix(".part")
    with av.open(str(partial), "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.bit_rate = 2_000_000
        stream.options = {
            "preset": "ultrafast",
            "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes=0",
        }
        for index in range(frames):
            picture = np.roll(base, index * 4, axis=1)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.replace(path)


def record(clip: Path, engine, recordings_dir: Path) -> None:
    with av.open(str(clip)) as source:
        video = source.streams.video[0]
        context = video.codec_context
        info = StreamInfo("h264", context.width, context.height, video.time_base, context.extradata)
        fanout = Fanout("bench")
        recorder = Recorder(
            "bench", fanout, engine, recordings_dir, segment_seconds=60, queue_size=4096
        ).start()
        first = None
        for packet in source.demux(video):
            if packet.dts is None or not packet.size:
                continue
            first = packet.dts if first is None else first
            while fanout.subscribers[0].pending() > 2048:
                time.sleep(0.001)
            fanout.publish(
                MediaPacket(
                    "bench", bytes(packet), packet.pts, packet.dts, packet.duration, packet.is_keyframe, False, info,
                    time.monotonic(), T0 + float((packet.dts - first) * video.time_base),
                )
            )  # fmt: skip
        while fanout.subscribers[0].pending():
            time.sleep(0.01)
        recorder.stop(timeout=60)
        assert recorder.dropped == 0


def timed(function) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its children)."""
    import resource

    def cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    wall, used = time.perf_counter(), cpu()
    function()
    return time.perf_counter() - wall, cpu() - used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seeks", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("export", "ingest"), help="run one part (default: both)")
    parser.add_argument("--cameras", type=int, default=4, help="RTSP streams for the ingest part")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of CPU measurement (ingest part)")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds left out first (ingest part)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="ingest part: measure this many times (medians)"
    )
    parser.add_argument(
        "--ingest-flags",
        default="",
        help="ingest part: extra `watchwall ingest` flags, e.g. --ingest-flags=--no-thumbnails",
    )
    args = parser.parse_args()
    if not shutil.which("ffmpeg"):
        print("Debian ffmpeg is needed for the side-by-side export", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    clip = OUT / f"recording_720p25_{args.minutes:g}min.ts"
    if not clip.exists():
        print(f"encoding {args.minutes:g} min of 720p25 ...", file=sys.stderr)
        make_clip(clip, args.minutes)
    results = {} if args.only == "ingest" else export_and_seek(args, clip)
    if args.only != "export":
        from ingest_cpu import run_ingest_benchmark

        flags = tuple(args.ingest_flags.split())
        rounds = [
            run_ingest_benchmark(clip, OUT, args.cameras, args.window, args.warmup, flags)
            for _ in range(max(1, args.rounds))
        ]
        results["ingest"] = rounds[0] if len(rounds) == 1 else summarise_rounds(rounds)
    name = "recording.json" if args.only is None else f"recording_{args.only}.json"
    (OUT / name).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


def summarise_rounds(rounds: list[dict]) -> dict:
    """Every round's figures, and the medians of the per-camera CPU and of the ratio."""
    keys = ("watchwall_core_pct_per_camera", "ffmpeg_core_pct_per_camera", "watchwall_vs_ffmpeg")
    return {
        **{f"median_{key}": statistics.median(r[key] for r in rounds) for key in keys},
        "rounds": rounds,
    }


def export_and_seek(args, clip: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="watchwall-bench-", dir=OUT) as scratch:
        scratch = Path(scratch)
        url = f"sqlite:///{scratch / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        recordings = scratch / "recordings"
        record_wall, record_cpu = timed(lambda: record(clip, engine, recordings))
        with session_scope(engine) as session:
            segments = session.query(RecordingSegment).order_by(RecordingSegment.start_utc).all()
        total_bytes = sum(s.bytes for s in segments)
        span_end = segments[-1].end_utc
        key = load_or_create_signing_key(scratch)
        zone = ZoneInfo("Asia/Shanghai")

        listing = scratch / "concat.txt"
        listing.write_text("".join(f"file '{recordings / s.path}'\n" for s in segments))
        ours, theirs = [], []
        for run in range(args.runs):
            out = scratch / f"export{run}.zip"
            ours.append(timed(lambda out=out: export_clip(
                engine, recordings, "bench", T0, span_end, out, signing_key=key, zone=zone, user="bench"
            )))  # fmt: skip
            target = scratch / f"concat{run}.mp4"
            theirs.append(timed(lambda target=target: subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
                 str(target)], check=True,
            )))  # fmt: skip
            out.unlink()
            target.unlink()

        rng = random.Random(11)
        latencies = []
        for index in range(args.seeks):
            instant = T0 + rng.uniform(0, span_end - T0 - 1)
            cache = scratch / f"cache{index}"  # a cold cache every time

            def first_byte(instant=instant, cache=cache):
                played = playback_file(engine, recordings, cache, "bench", instant, instant + 30)
                with open(played.path, "rb") as handle:
                    assert handle.read(65536)

            latencies.append(timed(first_byte)[0])
        engine.dispose()

    export_wall = statistics.median(w for w, _ in ours)
    concat_wall = statistics.median(w for w, _ in theirs)
    export_cpu = statistics.median(c for _, c in ours)
    concat_cpu = statistics.median(c for _, c in theirs)
    latencies.sort()
    return {
        "minutes": args.minutes,
        "segments": len(segments),
        "bytes": total_bytes,
        "mbit_per_s": round(total_bytes * 8 / (span_end - T0) / 1e6, 2),
        "record_wall_s": round(record_wall, 2),
        "record_cpu_s": round(record_cpu, 2),
        "export_wall_s": round(export_wall, 3),
        "concat_wall_s": round(concat_wall, 3),
        "export_vs_concat_wall": round(export_wall / concat_wall, 2),
        "export_cpu_s": round(export_cpu, 3),
        "concat_cpu_s": round(concat_cpu, 3),
        "export_vs_concat_cpu": round(export_cpu / concat_cpu, 2),
        "seek_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "seek_p95_ms": round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))], 1),
        "seek_max_ms": round(1000 * latencies[-1], 1),
    }


if __name__ == "__main__":
    sys.exit(main())
