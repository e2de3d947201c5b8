"""Cost of the county page's full-resolution snapshot (one keyframe decoded and encoded as JPEG at its
own size, ``video/ingest/full_snapshot.py``) against the thumbnail path of the keyframe worker
(the same keyframe decoded, scaled to 320 px wide and encoded), side by side in one run.

    .venv/bin/python benchmarks/playback/snapshot.py [--rounds 40]

Keyframes are made with PyAV's libx264 (720p and 1080p, a moving test picture); each round takes the
newest keyframe from a real Fanout's GOP, as the route does. Prints medians and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from fractions import Fraction

import av
import cv2
import numpy as np

from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.full_snapshot import full_resolution_jpeg
from watchwall.video.ingest.keyframes import KeyframeDecoder
from watchwall.video.ingest.packet import MediaPacket, StreamInfo


def keyframe_packet(width: int, height: int) -> MediaPacket:
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, 25)
    encoder.options = {"preset": "veryfast", "tune": "zerolatency"}
    encoder.flags |= av.codec.context.Flags.global_header  # the SPS/PPS as extradata, as a camera's SDP
    picture = np.zeros((height, width, 3), np.uint8)
    cv2.rectangle(picture, (width // 4, height // 4), (width // 2, height // 2), (40, 200, 90), -1)
    cv2.putText(
        picture, "WatchWall", (width // 8, height * 3 // 4), cv2.FONT_HERSHEY_SIMPLEX, 3, (255, 255, 255), 5
    )
    frame = av.VideoFrame.from_ndarray(picture, format="bgr24").reformat(format="yuv420p")
    frame.pts = 0
    packets = list(encoder.encode(frame)) + list(encoder.encode(None))
    stream = StreamInfo(
        codec="h264",
        width=width,
        height=height,
        time_base=Fraction(1, 90000),
        extradata=bytes(encoder.extradata or b""),
    )
    return MediaPacket(
        camera_id="bench",
        data=bytes(packets[0]),
        pts=0,
        dts=0,
        duration=3600,
        is_keyframe=True,
        is_corrupt=False,
        stream=stream,
        arrival=time.monotonic(),
        wallclock=time.time(),
    )


def thumbnail(packet: MediaPacket, width: int = 320) -> bytes:
    frame = KeyframeDecoder().decode(packet)
    height = max(2, round(frame.height * width / frame.width / 2) * 2)
    picture = frame.reformat(width=width, height=height, format="bgr24", interpolation="AREA").to_ndarray()
    return cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    for width, height in ((1280, 720), (1920, 1080)):
        packet = keyframe_packet(width, height)
        fanout = Fanout("bench")
        fanout.publish(packet)
        full, small = [], []
        for _ in range(args.rounds):  # interleaved: both see the same machine load
            started = time.perf_counter()
            taken = full_resolution_jpeg(fanout, timeout_s=1)
            full.append(time.perf_counter() - started)
            assert taken is not None and (taken.width, taken.height) == (width, height)
            started = time.perf_counter()
            thumbnail(packet)
            small.append(time.perf_counter() - started)
        f, s = statistics.median(full) * 1000, statistics.median(small) * 1000
        print(
            f"{width}x{height}: full-resolution snapshot {f:.1f} ms, thumbnail {s:.1f} ms, ratio {f / s:.2f} x"
            f" ({len(taken.jpeg) // 1024} KiB)"
        )


if __name__ == "__main__":
    main()
