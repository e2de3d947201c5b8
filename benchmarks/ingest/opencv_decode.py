"""Full decode: ``cv2.VideoCapture(url)`` reading (so decoding) every frame of each RTSP URL, over TCP.

Usage: python opencv_decode.py --seconds S URL [URL ...]; writes {url: frames} as JSON to --counts every second
and prints it at the end.
One thread per stream (OpenCV releases the GIL in ``read``).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

# OpenCV's FFmpeg backend reads its demuxer options from here; RTSP over TCP like the other variants.
os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = "rtsp_transport;tcp"

import cv2  # noqa: E402


def decode(url: str, deadline: float, counts: dict[str, int]) -> None:
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
    try:
        while time.monotonic() < deadline:
            ok, _frame = capture.read()
            if not ok:
                return
            counts[url] += 1
    finally:
        capture.release()


def write_counts(path: Path, counts: dict[str, int]) -> None:
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(counts))
    partial.replace(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--counts", type=Path, help="file rewritten every second with the counts so far")
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()
    deadline = time.monotonic() + args.seconds
    counts = dict.fromkeys(args.urls, 0)
    threads = [
        threading.Thread(target=decode, args=(url, deadline, counts), daemon=True) for url in args.urls
    ]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline + 10.0:
        time.sleep(1.0)
        if args.counts is not None:
            write_counts(args.counts, counts)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
