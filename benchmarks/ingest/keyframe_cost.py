"""Where a WatchWall thumbnail's CPU goes: keyframe decode, thumbnail JPEG, health analytics.

Runs the real KeyframeWorker steps on every keyframe of the benchmark clip, in this process,
and prints the CPU milliseconds of each step per keyframe (medians).

Usage: .venv/bin/python benchmarks/ingest/keyframe_cost.py [--opencv-threads N ...]

``--opencv-threads 0 1`` measures with OpenCV's own thread pool as the process starts (0: left
as it is) and with OpenCV on the calling thread (1, what ``watchwall node`` sets), alternated.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from clip import ensure_clip  # noqa: E402

from watchwall.video.ingest.analytics import HealthDetector  # noqa: E402
from watchwall.video.ingest.fanout import Fanout  # noqa: E402
from watchwall.video.ingest.keyframes import KeyframeDecoder, KeyframeWorker  # noqa: E402
from watchwall.video.ingest.packet import MediaPacket, StreamInfo  # noqa: E402
from watchwall.video.state.events import MemorySink  # noqa: E402

OUT = HERE.parents[1] / "benchmarks" / "out"


def keyframes(clip: Path) -> list[MediaPacket]:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        info = StreamInfo("h264", context.width, context.height, stream.time_base, None)
        return [
            MediaPacket("bench", bytes(packet), packet.pts, packet.dts, packet.duration, True, False, info, 0.0, 0.0)
            for packet in container.demux(stream)
            if packet.size and packet.is_keyframe
        ]  # fmt: skip


def cpu_ms(function, *args) -> tuple[float, object]:
    started = time.process_time()
    value = function(*args)
    return (time.process_time() - started) * 1000, value


def measure(clip: Path, rounds: int = 5) -> dict[str, float]:
    """Median CPU milliseconds per keyframe of each step, and their total."""
    packets = keyframes(clip)
    steps: dict[str, list[float]] = {"decode": [], "thumbnail": [], "analytics": []}
    with tempfile.TemporaryDirectory() as thumbnails:
        worker = KeyframeWorker("bench", Fanout("bench"), MemorySink(), thumbnail_dir=Path(thumbnails))
        detector = HealthDetector()
        decoder = KeyframeDecoder()  # one per camera, as in the worker
        width = detector.thresholds.analysis_width
        for round_number in range(rounds):
            for index, packet in enumerate(packets):
                at = float(round_number * len(packets) + index) * 5  # one keyframe per 5 s
                ms, frame = cpu_ms(decoder.decode, packet)
                steps["decode"].append(ms)
                ms, _ = cpu_ms(worker._make_thumbnail, frame, at)
                steps["thumbnail"].append(ms)
                ms, _ = cpu_ms(
                    lambda frame, at: detector.observe(worker._analysis_frame(frame, width), at), frame, at
                )
                steps["analytics"].append(ms)
    medians = {name: statistics.median(values) for name, values in steps.items()}
    return medians | {"total": sum(medians.values())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opencv-threads", type=int, nargs="*", default=[0], help="0: OpenCV's default")
    parser.add_argument("--repeat", type=int, default=1, help="times through the --opencv-threads list")
    args = parser.parse_args()
    default_threads = cv2.getNumThreads()
    clip = ensure_clip(OUT)
    for _ in range(args.repeat):
        for threads in args.opencv_threads:
            cv2.setNumThreads(threads or default_threads)
            print(f"OpenCV threads: {cv2.getNumThreads()}")
            for name, ms in measure(clip).items():
                print(f"  {name:<10} {ms:6.2f} ms CPU per keyframe (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
