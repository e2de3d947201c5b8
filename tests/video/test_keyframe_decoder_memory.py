"""The keyframe decoder keeps no decoder, so no picture buffers, between keyframes.

A decoder left open holds about 3 MiB of 720p picture buffers per camera between thumbnails;
at 200 cameras a node that was most of its memory (benchmarks/cluster/node_memory_profile.py).
"""

from __future__ import annotations

import ctypes
from fractions import Fraction

import av
import numpy as np

from watchwall.video.ingest.keyframes import KeyframeDecoder
from watchwall.video.ingest.packet import MediaPacket, StreamInfo

WIDTH, HEIGHT = 1280, 720
CAMERAS = 30


class MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost",
        )
    ]  # fmt: skip


def malloc_in_use() -> int:
    """Bytes glibc's malloc has handed out and not had back (heap and mmapped blocks)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd


def keyframe_720p() -> MediaPacket:
    context = av.CodecContext.create("libx264", "w")
    context.width, context.height, context.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    context.time_base = Fraction(1, 25)
    context.options = {"preset": "ultrafast", "x264-params": "repeat-headers=1"}
    picture = np.random.default_rng(3).integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
    frame.pts = 0
    packets = [*context.encode(frame), *context.encode(None)]
    info = StreamInfo(codec="h264", width=WIDTH, height=HEIGHT, time_base=Fraction(1, 90000))
    return MediaPacket(
        camera_id="cam",
        data=bytes(packets[0]),
        pts=0,
        dts=0,
        duration=1,
        is_keyframe=True,
        is_corrupt=False,
        stream=info,
        arrival=0.0,
        wallclock=0.0,
    )


def test_decoders_of_many_cameras_hold_no_picture_buffers_between_keyframes():
    packet = keyframe_720p()
    decoders = [KeyframeDecoder() for _ in range(CAMERAS)]
    decoders[0].decode(packet)  # the codec's one-time tables, before measuring
    before = malloc_in_use()
    for decoder in decoders:
        frame = decoder.decode(packet)
        assert (frame.width, frame.height) == (WIDTH, HEIGHT)
        del frame
    held = (malloc_in_use() - before) / CAMERAS
    # One 720p picture is 1.4 MiB; a decoder kept open held about 3 MiB a camera.
    assert held < 256 * 1024, f"{held / 2**20:.2f} MiB held per camera after its keyframe"
    assert all(decoder.decode(packet) is not None for decoder in decoders[:3]), "still decodes every time"
