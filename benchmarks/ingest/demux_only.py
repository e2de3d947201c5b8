"""The floor: open each RTSP URL over TCP with PyAV and demux its packets, nothing else.

Usage: python demux_only.py --seconds S URL [URL ...]; writes {url: packets} as JSON to --counts every second
and prints it at the end.
One thread per stream (PyAV releases the GIL while FFmpeg reads).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

import av


def demux(url: str, deadline: float, counts: dict[str, int]) -> None:
    with av.open(url, options={"rtsp_transport": "tcp"}, timeout=(5.0, 5.0)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.size:
                counts[url] += 1
            if time.monotonic() >= deadline:
                return


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
    threads = [threading.Thread(target=demux, args=(url, deadline, counts), daemon=True) for url in args.urls]
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
