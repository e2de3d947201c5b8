"""A recording process for the crash test: a real H.264 stream paced in real time into Fanout + Recorder.

Usage: python record_process.py DATABASE_URL RECORDINGS_DIR SECONDS
Prints ``published <n> <wallclock end of packet n> <packets the recorder has not taken yet>``
after every packet, flushed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.video.record.recording_media import h264_clip, media_packets
from watchwall.config.database import make_engine
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.record.recorder import Recorder


def main() -> None:
    url, recordings_dir, seconds = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    info, raw = h264_clip(seconds)
    engine = make_engine(url)
    fanout = Fanout("cam1")
    recorder = Recorder("cam1", fanout, engine, recordings_dir, segment_seconds=600).start()
    start_wall, start_mono = time.time(), time.monotonic()
    for index, packet in enumerate(media_packets("cam1", info, raw, start_wall)):
        offset = packet.wallclock - start_wall
        time.sleep(max(0.0, start_mono + offset - time.monotonic()))
        fanout.publish(packet)
        end = packet.wallclock + float(packet.duration * info.time_base)
        print(f"published {index + 1} {end:.6f} {recorder._subscription.pending()}", flush=True)
    time.sleep(600)  # the test kills us before this ends


if __name__ == "__main__":
    main()
