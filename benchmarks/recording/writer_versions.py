"""Two versions of the H.264 segment writer side by side, in one process, on the same packets.

250 packets of the ingest benchmarks' 720p25 clip (``benchmarks/ingest/clip.py``, about 2 Mbit/s)
are taken from the GStreamer RTSP test server through this checkout's ingest reader, as a node
receives them (with ``MediaPacket.nal_units`` where this checkout's depacketiser sets it). Then
this checkout's ``H264SegmentWriter`` and the one of another checkout (``--before``: its
``video/record/h264_segment.py`` loaded as a module of its own; what it imports comes from this
checkout) write them, ``--loops`` passes (timestamps moved on each pass) into one segment each,
alternating, ``--rounds`` times. Printed: the writer's CPU per packet (thread CPU time of
``write`` and ``close``: sample framing, fragments, SHA-256, the file writes) of each, the ratio,
and whether both files have the same SHA-256.

    .venv/bin/python benchmarks/recording/writer_versions.py --before ../main
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # noqa: E402

from benchmarks.recording.recorder_packet_cpu import FPS, capture  # noqa: E402
from watchwall.video.record import h264_segment  # noqa: E402


def writer_of(checkout: Path):
    spec = importlib.util.spec_from_file_location(
        "before_h264_segment", checkout / "video/record/h264_segment.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def passes(packets: list, loops: int) -> list:
    span = packets[-1].dts - packets[0].dts + packets[1].duration
    start = packets[0].wallclock
    return [
        dataclasses.replace(
            p,
            dts=p.dts + loop * span,
            pts=p.pts + loop * span,
            wallclock=start + (loop * len(packets) + i) / FPS,
        )
        for loop in range(loops)
        for i, p in enumerate(packets)
    ]


def write_all(module, items: list, folder: Path) -> tuple[float, str]:
    """µs of thread CPU per packet to write ``items`` as one segment; the file's SHA-256."""
    path = folder / "segment.mp4"
    writer = module.H264SegmentWriter(path, items[0].stream, items[0].wallclock)
    started = time.thread_time()
    for packet in items:
        writer.write(packet)
    summary = writer.close()
    used = time.thread_time() - started
    path.unlink()
    return 1e6 * used / len(items), summary.sha256


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout's root")
    parser.add_argument("--loops", type=int, default=20, help="passes over the 250 packets a segment")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    before = writer_of(args.before.resolve())
    work = Path(tempfile.mkdtemp(prefix="ww-writers-"))
    try:
        packets = capture(work, 10 * FPS)
        items = passes(packets, args.loops)
        figures: dict[str, list[float]] = {"before": [], "after": []}
        digests = {}
        for number in range(args.rounds):
            order = [("before", before), ("after", h264_segment)]
            for name, module in order if number % 2 == 0 else order[::-1]:
                micros, digests[name] = write_all(module, items, work)
                figures[name].append(round(micros, 2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    median = {name: round(statistics.median(values), 2) for name, values in figures.items()}
    print(
        json.dumps(
            {
                "packets": len(items),
                "one_unit_known": sum(1 for p in packets if p.nal_units == 1),
                "us_per_packet": figures,
                "median_us": median,
                "after_over_before": round(median["after"] / median["before"], 3),
                "same_file": digests["before"] == digests["after"],
                "load_average": open("/proc/loadavg").read().split()[:3],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
